"""The door's datasets facet: files read, columns checked, datasets frozen and described,
and the word-vector and text files kept beside them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_core.api.door import MAX_NAME_CHARS, MAX_NOTE_CHARS, SPEC_DEFAULTS, Door, within
from lstm_core.data.markup import MarkupShare, markup_share
from lstm_core.data.reading import Reading
from lstm_core.data.repeats import RepeatSummary, repeat_summary
from lstm_core.domain.analysis import LengthProfile
from lstm_core.domain.entities import Dataset, TextFile, VectorsCoverage
from lstm_core.domain.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from lstm_core.data.intake import LoadReport, ReadProgress

PROFILE_SAMPLE = 20_000  # texts whose lengths are counted for a profile


class DatasetsFacet(Door):
    """Files in, datasets out; word-vector and unlabelled text files kept."""

    def __init__(self, root: str | os.PathLike | None = None):
        super().__init__(root)
        self._vocabularies: dict[tuple, int] = {}

    def read_file(
        self,
        data: bytes,
        filename: str = "",
        reading: Reading | None = None,
        *,
        encoding: str | None = None,
        sheet: str | None = None,
        progress: ReadProgress | None = None,
    ) -> tuple[pd.DataFrame, LoadReport]:
        """An uploaded file's bytes as string columns, with a report of how it was read
        (`report.reading`); `reading` reads them again exactly so, `encoding` and `sheet`
        override a guess, `progress(share, stage)` hears how far reading has got."""
        from lstm_core.data.intake import read_table

        return read_table(
            data, filename, reading, encoding=encoding, sheet=sheet, progress=progress
        )

    def read_path(
        self, path: str | os.PathLike, *, encoding: str | None = None, sheet: str | None = None
    ) -> tuple[pd.DataFrame, LoadReport]:
        from lstm_core.data.intake import read_path

        return read_path(str(path), encoding=encoding, sheet=sheet)

    def column_problems(
        self,
        frame: pd.DataFrame,
        text_column: str,
        label_column: str,
        cv: int = SPEC_DEFAULTS.cv,
        test_size: float = SPEC_DEFAULTS.test_size,
    ) -> list[str]:
        """Every problem with a column choice, one sentence each; empty when it can be used."""
        from lstm_core.data.validation import column_problems

        return column_problems(frame, text_column, label_column, cv, test_size)

    def column_warnings(
        self, frame: pd.DataFrame, text_column: str, label_column: str
    ) -> list[str]:
        """What can be trained on but probably should not be (numbers as texts, labels that
        differ only in how a number is written), one sentence each."""
        from lstm_core.data.validation import column_warnings

        return column_warnings(frame, text_column, label_column)

    def length_profile(self, texts, strip_html: bool = False) -> LengthProfile:
        """Tokens per text (a sample of at most 20,000) and the 'auto' sequence length;
        `strip_html`: counted as a model that strips HTML reads them."""
        import numpy as np

        from lstm_core.data.vectorizer import auto_sequence_length, token_lengths

        texts = list(texts)
        if len(texts) > PROFILE_SAMPLE:
            rows = np.random.default_rng(0).choice(len(texts), PROFILE_SAMPLE, replace=False)
            texts = [texts[i] for i in rows]
        lengths = token_lengths(texts, strip_html)
        return LengthProfile(
            auto_sequence_length(lengths), int(lengths.max(initial=0)), lengths.tolist()
        )

    def freeze_dataset(
        self,
        frame: pd.DataFrame,
        text_column: str,
        label_column: str,
        name: str,
        cv: int = SPEC_DEFAULTS.cv,
        test_size: float = SPEC_DEFAULTS.test_size,
        reading: Reading | None = None,
    ) -> tuple[Dataset, list[str]]:
        """Save the usable rows of the chosen columns, and how the file was read (the
        report's `reading`); returns the dataset and what was dropped."""
        from lstm_core.data.datasets import freeze_dataset
        from lstm_core.data.validation import select_columns

        chosen = select_columns(frame, text_column, label_column, cv, test_size)
        dataset = freeze_dataset(self.workspace, chosen, name, text_column, label_column, reading)
        return dataset, chosen.notes

    def dataset_reading(self, dataset_id: str) -> Reading | None:
        """How a dataset's file was read (format, encoding, delimiter, quoting, ...); None
        for a dataset saved before that was kept."""
        from lstm_core.data.datasets import load_reading

        self.dataset(dataset_id)
        return load_reading(self.workspace, dataset_id)

    def datasets(self) -> list[Dataset]:
        """Newest first."""
        return self.workspace.store.list_datasets()

    def dataset_lengths(self, dataset_id: str, strip_html: bool = False) -> LengthProfile:
        from lstm_core.data.datasets import load_dataset

        return self.length_profile(load_dataset(self.workspace, dataset_id).texts, strip_html)

    def markup_share(self, texts) -> MarkupShare:
        """How many texts hold HTML tags or entities, which the `strip_html` setting removes."""
        return markup_share(texts)

    def repeat_summary(self, texts) -> RepeatSummary:
        """How many texts repeat another (case, spacing and links aside): what a run's
        splits keep together."""
        return repeat_summary(list(texts))

    def dataset_markup(self, dataset_id: str) -> MarkupShare:
        from lstm_core.data.datasets import load_dataset

        return markup_share(load_dataset(self.workspace, dataset_id).texts)

    def describe_dataset(
        self, dataset_id: str, *, name: str | None = None, note: str | None = None
    ) -> Dataset:
        """Rename a dataset (its file name by default) and keep a note with it; every run
        list shows the new name. None leaves a field as it is, an empty note clears it."""
        if name is not None:
            name = within(" ".join(name.split()), MAX_NAME_CHARS, "A dataset name")
            if not name:
                raise UserError("A dataset needs a name; type one, or keep the one it has.")
        if note is not None:
            note = within(note.strip(), MAX_NOTE_CHARS, "A note")
        self.dataset(dataset_id)
        return self.workspace.store.describe_dataset(dataset_id, name=name, note=note)

    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset no run uses: its row, then its folder."""
        from lstm_core.store.lifecycle import InvalidTransition

        self.dataset(dataset_id)
        users = self.workspace.store.runs_of_dataset(dataset_id)
        if users:
            raise UserError(
                f"Dataset '{dataset_id}' is used by {len(users)} run(s) ({', '.join(users[:3])}"
                f"{', ...' if len(users) > 3 else ''}); delete those runs first."
            )
        try:
            self.workspace.store.delete_dataset(dataset_id)
        except InvalidTransition:
            raise UserError(f"Dataset '{dataset_id}' got a run just now; look again.") from None
        shutil.rmtree(self.workspace.dataset_dir(dataset_id), ignore_errors=True)

    def vocabulary_size(self, dataset_id: str, config: dict) -> int:
        """Words (padding and unknown included) a vectorizer with `config`'s text settings
        keeps from the whole dataset; remembered per setting, as datasets never change."""
        from lstm_core.domain.hyperparams import VECTORIZER, targets

        settings = tuple((name, config[name]) for name in targets(VECTORIZER))
        key = (dataset_id, settings)
        if key not in self._vocabularies:
            from lstm_core.data.datasets import load_dataset
            from lstm_core.data.vectorizer import SequenceVectorizer

            texts = load_dataset(self.workspace, dataset_id).texts
            vectorizer = SequenceVectorizer(**dict(settings)).fit(texts)
            self._vocabularies[key] = vectorizer.vocabulary_size_
        return self._vocabularies[key]

    def add_vectors(self, source: str | os.PathLike | bytes, name: str = "") -> TextFile:
        """Keep a word-vector file (GloVe, or word2vec / fastText .vec; gzip too), after
        reading it through once: a malformed line is one sentence, and nothing is kept."""
        from lstm_core.data import text_files

        return text_files.add_file(self.root, *_source(source, name), text_files.VECTORS)

    def add_corpus(self, source: str | os.PathLike | bytes, name: str = "") -> TextFile:
        """Keep an unlabelled UTF-8 text file (a text per line) for self-trained vectors."""
        from lstm_core.data import text_files

        return text_files.add_file(self.root, *_source(source, name), text_files.CORPUS)

    def text_files(self, kind: str = "vectors") -> list[TextFile]:
        """Kept word-vector files (`kind` "vectors") or text files ("corpus"), newest first."""
        from lstm_core.data import text_files

        return text_files.list_files(self.root, kind)

    def vectors_coverage(self, dataset_id: str, vectors_id: str, config: dict) -> VectorsCoverage:
        """Before training: how much of the dataset's vocabulary (under `config`'s text
        settings) and of its running tokens a kept vectors file covers."""
        from collections import Counter

        from lstm_core.data import text_files
        from lstm_core.data.datasets import load_dataset
        from lstm_core.data.vectorizer import SequenceVectorizer
        from lstm_core.data.word_vectors import coverage, read_vectors
        from lstm_core.domain.hyperparams import VECTORIZER, targets

        info = text_files.read_info(self.root, vectors_id)
        texts = load_dataset(self.workspace, dataset_id).texts
        vectorizer = SequenceVectorizer(**{n: config[n] for n in targets(VECTORIZER)}).fit(texts)
        counts = Counter(token for text in texts for token in vectorizer.tokenize(text))
        vectors = read_vectors(text_files.data_path(self.root, vectors_id), counts, info.name)
        return coverage(vectors, vectorizer.vocabulary_, counts, info.name)


def _source(source: str | os.PathLike | bytes, name: str) -> tuple[Path | bytes, str]:
    if isinstance(source, bytes):
        return source, name or "uploaded file"
    path = Path(source)
    if not path.is_file():
        raise UserError(f"There is no file '{path}'; check the path.")
    return path, name or path.name
