"""The door's models facet: a completed run's saved model, kept loaded in the engine for the
next question (Predict's typing, a REST server's requests), and exported as a zip or as a
plain Keras script. Callers get labels, explanations and a `ModelCard`, never the model."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_core.api.door import Door
from lstm_core.domain.analysis import Explanation, LabelledText
from lstm_core.domain.errors import UserError
from lstm_core.domain.model_card import ModelCard

if TYPE_CHECKING:
    from lstm_core.models.bundle import Bundle

KEPT_MODELS = 4  # loaded models kept at once: the shown one and a few to compare with


class ModelsFacet(Door):
    """Saved models: loaded once, asked many times, exported."""

    def __init__(self, root: str | os.PathLike | None = None):
        super().__init__(root)
        self._models: OrderedDict[str, tuple[tuple[int, int], Bundle]] = OrderedDict()
        self._loading = threading.Lock()  # a page's sessions and a server's threads share it

    def has_model(self, run_id: str) -> bool:
        """Bundles are written to a scratch folder and renamed: the folder means complete."""
        return self.workspace.bundle_dir(run_id).is_dir()

    def _model(self, run_id: str) -> Bundle:
        """The run's bundle, loaded once (in safe mode) and kept while it is among the
        `KEPT_MODELS` used last; a folder replaced since (a run id used again) loads again."""
        folder = self._bundle_dir(run_id)
        stat = folder.stat()
        version = (stat.st_ino, stat.st_mtime_ns)
        with self._loading:
            kept = self._models.get(run_id)
            if kept is None or kept[0] != version:
                from lstm_core.models.bundle import Bundle

                kept = (version, Bundle.load(folder))
            self._models[run_id] = kept
            self._models.move_to_end(run_id)
            while len(self._models) > KEPT_MODELS:
                self._models.popitem(last=False)
        return kept[1]

    def load_model(self, run_id: str) -> ModelCard:
        """Load the run's saved model into this engine (what `predict` and `explain` then
        use at once) and say what it answers with."""
        bundle = self._model(run_id)
        return ModelCard(
            run_id=run_id,
            labels=list(bundle.labels),
            sequence_length=bundle.vectorizer.sequence_length_,
            vocabulary_size=bundle.vectorizer.vocabulary_size_,
        )

    def predict(self, run_id: str, texts: list[str]) -> list[LabelledText]:
        """Each text's label; an empty one is refused (the model would still answer)."""
        for number, text in enumerate(texts, 1):
            if not text.strip():
                raise UserError(f"Text {number} is empty; give some words to label.")
        return self._model(run_id).predict(texts)

    def reads(self, run_id: str, text: str) -> str:
        """`text` as the run's model reads it before tokenizing: HTML tags and entities
        removed when it was trained on texts cleaned so."""
        return self._model(run_id).cleaned(text)

    def explain(self, run_id: str, text: str) -> Explanation:
        """Why the run's model labels `text` so: token attributions and its gates."""
        from lstm_core.insight.inside import explain

        if not text.strip():  # it would attribute the answer to an [unknown] token
            raise UserError("The text is empty; give some words to explain.")
        return explain(self._model(run_id), text)

    def export_model(self, run_id: str, destination: str | os.PathLike) -> Path:
        """The model bundle as one zip file (the destination is checked before writing)."""
        from lstm_core.models.bundle import export_zip

        destination = Path(destination)
        if destination.is_dir():
            raise UserError(
                f"'{destination}' is a folder; give the zip file's name, "
                f"e.g. {destination / 'model.zip'}."
            )
        _check_folder(destination)
        bundle = self._bundle_dir(run_id)
        try:
            return export_zip(bundle, destination)
        except OSError as exc:
            destination.unlink(missing_ok=True)
            raise UserError(f"Could not write '{destination}': {exc.strerror or exc}.") from None

    def model_zip(self, run_id: str) -> bytes:
        with tempfile.TemporaryDirectory() as scratch:
            return self.export_model(run_id, Path(scratch) / "model.zip").read_bytes()

    def code(self, run_id: str, filename: str = "train_run.py") -> str:
        """The run's best configuration as a plain Keras + scikeras + scikit-learn script that
        reads the data file as the run's dataset was read."""
        from lstm_core.data.datasets import load_reading
        from lstm_core.insight.code_export import render

        result = self.result(run_id)
        if result is None:
            raise UserError(f"Run '{run_id}' has no result to write as code; pick a completed run.")
        run = self.run(run_id)
        return render(run, result, filename, load_reading(self.workspace, run.dataset.id))

    def export_code(self, run_id: str, destination: str | os.PathLike) -> Path:
        destination = Path(destination)
        if destination.suffix != ".py":
            raise UserError(f"'{destination}' should end in .py, for example train_run.py.")
        _check_folder(destination)
        text = self.code(run_id, destination.name)
        try:
            destination.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"Could not write '{destination}': {exc.strerror or exc}.") from None
        return destination


def _check_folder(destination: Path) -> None:
    if not destination.parent.is_dir():
        raise UserError(
            f"There is no folder '{destination.parent}'; create it or choose another path."
        )
