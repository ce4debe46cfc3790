"""The engine's one public door: `Engine`, in the spirit of MLflow's client.

The dashboard's pages, the CLI and scripts use only this module: they get typed entities
(`Dataset`, `Run`, `Trial`, `Epoch`, `RunResult`, `Progress`, ...) and never open the
store, build artifact paths or read a result dict themselves. Importing it is cheap:
pandas, scikit-learn and TensorFlow load only in the methods that need them.

    engine = Engine()                       # the workspace at $LSTM_CORE_HOME
    frame, report = engine.read_path("spam.csv")
    dataset, notes = engine.freeze_dataset(frame, "v2", "v1", "spam.csv")
    run = engine.train(ExperimentSpec(dataset.id, grid={"arch": ["lstm", "gru"]}))
    engine.predict(run.id, ["WINNER! Claim your prize now"])
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lstm_core.data.markup import MarkupShare, markup_share
from lstm_core.data.reading import Reading
from lstm_core.domain.entities import (
    CalibrationBin,
    CandidateResult,
    ClassScores,
    ClusterInfo,
    ClusterView,
    Dataset,
    Epoch,
    Estimate,
    Evaluation,
    Explanation,
    GateTrace,
    HeldOutText,
    LabelledText,
    LengthProfile,
    LengthSlice,
    Progress,
    Run,
    RunResult,
    RunStatus,
    TestPrediction,
    TextFile,
    ThresholdMetrics,
    Trial,
    TrialStatus,
    VectorsCoverage,
    WorkerFits,
    candidate_labels,
    from_plain,
    pruned_candidates,
    to_plain,
)
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import (
    ARCHITECTURE_NAMES,
    ARCHITECTURES,
    HYPERPARAMETERS,
    Range,
    default_range,
    numeric,
    parse_assignment,
    parse_range,
    show_value,
)
from lstm_core.domain.spec import (
    BAYESIAN,
    FREEZE,
    HALVING_RESOURCES,
    INHERITED,
    MAX_SEED,
    PRUNERS,
    SCHEDULER_VARIABLE,
    SCORING_NAMES,
    SCORINGS,
    SEARCHES,
    SELF_VECTORS,
    ExperimentSpec,
    default_scheduler,
)
from lstm_core.insight.advice import design_advice
from lstm_core.insight.mlflow_export import DEFAULT_EXPERIMENT as MLFLOW_EXPERIMENT
from lstm_core.insight.mlflow_export import MlflowExport
from lstm_core.models.model_zoo import ModelSummary, embedding_rows_note, model_summary
from lstm_core.store.lock_holder import write_lock_holder
from lstm_core.store.store_errors import busy_sentence
from lstm_core.store.workspace import Workspace

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from lstm_core.data.intake import LoadReport, ReadProgress
    from lstm_core.jobs.doctor import Checkup
    from lstm_core.models.bundle import Bundle

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_NAMES",
    "BAYESIAN",
    "FREEZE",
    "HALVING_RESOURCES",
    "HYPERPARAMETERS",
    "INHERITED",
    "MAX_NAME_CHARS",
    "MAX_SEED",
    "MAX_NOTE_CHARS",
    "MLFLOW_EXPERIMENT",
    "PRUNERS",
    "SCHEDULER_VARIABLE",
    "SCORINGS",
    "SCORING_NAMES",
    "SEARCHES",
    "SELF_VECTORS",
    "SERVE_HOST",
    "SERVE_PORT",
    "SPEC_DEFAULTS",
    "CalibrationBin",
    "CandidateResult",
    "ClassScores",
    "ClusterInfo",
    "ClusterView",
    "Dataset",
    "Engine",
    "Epoch",
    "Estimate",
    "Evaluation",
    "ExperimentSpec",
    "Explanation",
    "GateTrace",
    "HeldOutText",
    "LabelledText",
    "LengthProfile",
    "LengthSlice",
    "MarkupShare",
    "MlflowExport",
    "ModelSummary",
    "Progress",
    "Range",
    "Reading",
    "Run",
    "RunResult",
    "RunStatus",
    "TestPrediction",
    "TextFile",
    "ThresholdMetrics",
    "Trial",
    "TrialStatus",
    "UserError",
    "VectorsCoverage",
    "WorkerFits",
    "default_range",
    "default_scheduler",
    "numeric",
    "parse_assignment",
    "parse_range",
    "pruned_candidates",
    "to_plain",
    "show_value",
    "embedding_rows_note",
    "candidate_labels",
]

SPEC_DEFAULTS = ExperimentSpec("")  # the defaults of every design choice
PROFILE_SAMPLE = 20_000  # texts whose lengths are counted for a profile
MAX_NAME_CHARS = 80  # a run's name fits a picker's line
MAX_NOTE_CHARS = 2_000
SERVE_HOST = "127.0.0.1"  # a served model answers this machine only, unless told otherwise
SERVE_PORT = 8000


class Engine:
    """Everything the workbench does, over one workspace folder."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.workspace = Workspace(root)
        self._vocabularies: dict[tuple, int] = {}
        self._held_out: dict[tuple, list[HeldOutText]] = {}
        self._studies: dict[str, optuna.Study] = {}  # one database connection per study

    @property
    def root(self) -> Path:
        return self.workspace.root

    # files and datasets
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

    def dataset(self, dataset_id: str) -> Dataset:
        dataset = self.workspace.store.get_dataset(dataset_id)
        if dataset is None:
            raise UserError(
                f"There is no dataset '{dataset_id}' in {self.root}; see lstm-core datasets."
            )
        return dataset

    def dataset_lengths(self, dataset_id: str, strip_html: bool = False) -> LengthProfile:
        from lstm_core.data.datasets import load_dataset

        return self.length_profile(load_dataset(self.workspace, dataset_id).texts, strip_html)

    def markup_share(self, texts) -> MarkupShare:
        """How many texts hold HTML tags or entities, which the `strip_html` setting removes."""
        return markup_share(texts)

    def dataset_markup(self, dataset_id: str) -> MarkupShare:
        from lstm_core.data.datasets import load_dataset

        return markup_share(load_dataset(self.workspace, dataset_id).texts)

    def describe_dataset(
        self, dataset_id: str, *, name: str | None = None, note: str | None = None
    ) -> Dataset:
        """Rename a dataset (its file name by default) and keep a note with it; every run
        list shows the new name. None leaves a field as it is, an empty note clears it."""
        if name is not None:
            name = _within(" ".join(name.split()), MAX_NAME_CHARS, "A dataset name")
            if not name:
                raise UserError("A dataset needs a name; type one, or keep the one it has.")
        if note is not None:
            note = _within(note.strip(), MAX_NOTE_CHARS, "A note")
        self.dataset(dataset_id)
        return self.workspace.store.describe_dataset(dataset_id, name=name, note=note)

    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset no run uses: its row, then its folder."""
        from lstm_core.store.sqlite import InvalidTransition

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

    # designing a run
    def estimate(
        self, spec: ExperimentSpec, auto_length: int | None = None, here: bool = False
    ) -> Estimate:
        """The run's wall time with a range and its basis, learned from this workspace's
        newest finished runs on this machine (a rough guess before the first).

        `auto_length` is the dataset's 'auto' sequence length, when the caller has it;
        `here`: the run will train in this process (`train`), not in a worker.
        """
        from lstm_core.insight.estimates import estimate_run

        dataset = self.dataset(spec.dataset_id)
        if auto_length is None:
            auto_length = self.dataset_lengths(spec.dataset_id).auto_length

        def auto_length_of(dataset_id: str) -> int:
            return self.dataset_lengths(dataset_id).auto_length

        return estimate_run(self.workspace, spec, dataset.rows, auto_length, auto_length_of, here)

    def advice(self, spec: ExperimentSpec, auto_length: int | None = None) -> list[str]:
        return design_advice(spec, auto_length)

    def model_summary(self, spec: ExperimentSpec, arch: str, auto_length: int) -> ModelSummary:
        """Layers and parameters of `arch`'s candidates, the embedding sized to the words the
        whole dataset keeps under each candidate's text settings (a fold keeps a few less),
        or to the saved model's vocabulary it starts from; frozen layers marked."""
        n_classes = len(self.dataset(spec.dataset_id).class_counts)
        parent = self.result(spec.parent) if spec.parent else None

        def vocabulary(config: dict) -> int:
            if parent is not None:
                return parent.vocabulary_size
            return self.vocabulary_size(spec.dataset_id, config)

        candidates = spec.candidates()
        frozen = spec.frozen_for(candidates[0])
        return model_summary(candidates, arch, n_classes, auto_length, vocabulary, frozen)

    def resolve(self, spec: ExperimentSpec) -> ExperimentSpec:
        """The validated spec with what its starting point fixes filled in (a saved model's
        architecture and text settings, a vectors file's size), or one `UserError`."""
        from lstm_core.models.starting import resolve

        return resolve(self.workspace, spec.validated())

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

    # word vectors and unlabelled texts
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

    def lineage(self, run_id: str) -> list[str]:
        """The runs this one started from, its parent first (a run deleted since ends it)."""
        chain: list[str] = []
        run = self.run(run_id)
        while run.spec.parent and run.spec.parent not in chain:
            chain.append(run.spec.parent)
            run = self.workspace.store.get_run(run.spec.parent)
            if run is None:
                break
        return chain

    # runs
    def submit(self, spec: ExperimentSpec) -> Run:
        """Queue a run and return at once; a worker process trains it."""
        from lstm_core.jobs import queue

        return self.run(queue.submit(self.workspace, spec))

    def train(self, spec: ExperimentSpec) -> Run:
        """Train a run here, in the foreground, and return it finished."""
        from lstm_core.execution.training import train

        return train(spec, self.workspace)

    def start(self, spec: ExperimentSpec) -> Run:
        """Store a run as running in this process; `execute` then trains it (the CLI's path)."""
        from lstm_core.execution.training import submit_run

        return self.run(submit_run(self.workspace, spec, foreground=True))

    def execute(self, run_id: str) -> Run:
        from lstm_core.execution.training import execute_here

        return execute_here(self.workspace, run_id)

    def refresh(self) -> None:
        """Mark runs whose worker died as interrupted and start queued runs if there is room
        (the dashboard's look, which may start a worker; a plain reader calls `reap`)."""
        from lstm_core.jobs import queue

        queue.refresh(self.workspace)

    def stopped_writer(self) -> str | None:
        """A sentence when a stopped process (SIGSTOP, a debugger) holds the workspace's
        write lock: reading goes on, but nothing can be saved until it continues."""
        holder = write_lock_holder(self.workspace.database)
        return busy_sentence(self.workspace.database, holder) if holder and holder.stopped else None

    def reap(self) -> None:
        """Mark runs whose worker died as interrupted, if the store can be written at once;
        starts nothing and never waits (what `runs` and `status` do before they read)."""
        from lstm_core.jobs import queue

        queue.reap(self.workspace, wait=False)

    def runs(self, limit: int = 200) -> list[Run]:
        """Newest first."""
        return self.workspace.store.list_runs(limit)

    def queue_note(self, run_id: str) -> str:
        """Why a queued run waits, and behind what, in one sentence."""
        from lstm_core.jobs.queue import MAX_RUNNING_VARIABLE, max_running

        run = self.run(run_id)
        runs = self.runs(limit=1_000)
        training = [r.title for r in runs if r.status == RunStatus.RUNNING]
        ahead = [
            r
            for r in runs
            if r.status == RunStatus.QUEUED
            and (r.created_at, r.id)
            < (
                run.created_at,
                run.id,
            )
        ]
        limit = max_running()
        if not training:
            return "Queued: a worker is starting to train it."
        before = f" and {len(ahead)} queued run(s) before it" if ahead else ""
        return (
            f"Queued behind {', '.join(training)} (training){before}: at most {limit} run(s) "
            f"train at once (${MAX_RUNNING_VARIABLE}), since one run already uses every core."
        )

    def run(self, run_id: str) -> Run:
        run = self.workspace.store.get_run(run_id)
        if run is None:
            raise UserError(f"There is no run '{run_id}' in {self.root}; see lstm-core runs.")
        return run

    def progress(self, run_id: str) -> Progress:
        from lstm_core.insight.progress import run_progress

        store = self.workspace.store
        return run_progress(self.run(run_id), store.trials(run_id), store.epochs(run_id))

    def trials(self, run_id: str) -> list[Trial]:
        return self.workspace.store.trials(run_id)

    def epochs(self, run_id: str) -> list[Epoch]:
        return self.workspace.store.epochs(run_id)

    def result(self, run_id: str) -> RunResult | None:
        """The finished run's result; None until it completes."""
        return self.workspace.store.get_result(run_id)

    def candidates(self, run_id: str) -> list[CandidateResult]:
        """Each candidate's fold scores (per round for halving), from its finished fits; a
        pruned candidate has none (a fold that finished beside the pruned one is no score)."""
        groups: dict[tuple[int, int], list[Trial]] = defaultdict(list)
        trials = self.trials(run_id)
        pruned = pruned_candidates(trials)
        for trial in trials:
            if (
                not trial.is_refit
                and trial.status == TrialStatus.COMPLETED
                and trial.score is not None
                and trial.candidate not in pruned
            ):
                groups[(trial.round, trial.candidate)].append(trial)
        results = []
        for (round_, candidate), trials in sorted(groups.items()):
            scores = [t.score for t in sorted(trials, key=lambda t: t.fold)]
            results.append(
                CandidateResult(
                    candidate=candidate,
                    round=round_,
                    config=trials[0].params,
                    mean_score=statistics.fmean(scores),
                    std_score=statistics.pstdev(scores),
                    fold_scores=scores,
                    mean_fit_seconds=statistics.fmean(t.seconds or 0.0 for t in trials),
                    n_train=trials[0].n_train,
                )
            )
        return results

    def study(self, run_id: str) -> optuna.Study | None:
        """A Bayesian run's Optuna study, for reading (its plots); None for other runs or
        before the run has asked for its first candidate."""
        run = self.run(run_id)
        path = self.workspace.study_file(run.id)
        if run.spec.search not in BAYESIAN or not path.exists():
            self._studies.pop(run.id, None)
            return None
        if run.id not in self._studies:
            from lstm_core.search.bayes import load_study

            study = load_study(path, run.id)
            if study is None:
                return None
            self._studies[run.id] = study  # it reads the trials afresh on every call
        return self._studies[run.id]

    def test_predictions(self, run_id: str) -> list[TestPrediction]:
        """The held-out texts with what the model and the baseline said (empty if not kept;
        a sentence if the run's folder was removed)."""
        run = self.run(run_id)
        path = self.workspace.predictions_file(run.id)
        if not path.exists():
            lost = self.workspace.files_problem(run)
            if lost is not None:
                raise UserError(lost)
            return []
        with open(path, encoding="utf-8") as handle:
            return [from_plain(TestPrediction, json.loads(line)) for line in handle if line.strip()]

    def check_cluster(self, address: str) -> ClusterInfo:
        """The Dask scheduler at `address` and its workers; a sentence if it is not there."""
        from lstm_core.execution.cluster import check_cluster

        return check_cluster(address)

    def default_cluster(self) -> str:
        """The scheduler runs go to unless a design names one (`$LSTM_CORE_DASK_SCHEDULER`)."""
        return default_scheduler()

    def cluster_view(self, run_id: str) -> ClusterView | None:
        """For a run whose fits went to a Dask cluster: the scheduler as the run found it,
        and what each worker did (from the run's fits); None for a run on this machine."""
        run = self.run(run_id)
        if not run.spec.cluster:
            return None
        path = self.workspace.cluster_file(run.id)
        cluster = from_plain(ClusterInfo, json.loads(path.read_text())) if path.exists() else None
        counts: dict[str, dict[TrialStatus, int]] = defaultdict(lambda: defaultdict(int))
        for trial in self.trials(run.id):
            counts[trial.worker or "unknown"][trial.status] += 1
        workers = [
            WorkerFits(
                worker=worker,
                completed=by[TrialStatus.COMPLETED] + by[TrialStatus.PRUNED],
                running=by[TrialStatus.RUNNING],
                interrupted=by[TrialStatus.INTERRUPTED] + by[TrialStatus.CANCELLED],
                failed=by[TrialStatus.FAILED],
            )
            for worker, by in sorted(counts.items())
        ]
        return ClusterView(cluster, workers)

    def worker_log(self, run_id: str, lines: int = 30) -> str:
        path = self.workspace.worker_log(run_id)
        if not path.exists():
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))

    def cancel(self, run_id: str) -> str:
        """`cancelled` for a queued run, `cancelling` for a running one (it stops shortly)."""
        from lstm_core.jobs import queue

        return str(queue.cancel(self.workspace, run_id))

    def resume(self, run_id: str) -> Run:
        """Queue an interrupted, cancelled or failed run again; finished fits are not repeated."""
        from lstm_core.jobs import queue

        queue.resume(self.workspace, run_id)
        return self.run(run_id)

    def describe_run(self, run_id: str, *, name: str | None = None, note: str | None = None) -> Run:
        """Give a run a name a person will recognise ("spam, LSTM vs GRU") and a note on
        what was tried; None leaves a field as it is, an empty string clears it."""
        if name is not None:
            name = _within(" ".join(name.split()), MAX_NAME_CHARS, "A run name")
        if note is not None:
            note = _within(note.strip(), MAX_NOTE_CHARS, "A note")
        self.run(run_id)
        return self.workspace.store.describe_run(run_id, name=name, note=note)

    def delete_run(self, run_id: str) -> None:
        """Remove a run that is not queued or running, with its model and files."""
        from lstm_core.jobs import queue

        queue.delete(self.workspace, run_id)

    def doctor(self, repair: bool = False) -> Checkup:
        """Check the workspace (database, folders, stuck runs); optionally repair it."""
        from lstm_core.jobs import doctor

        if repair:
            return doctor.repair(self.workspace)
        problems = doctor.examine(self.workspace)
        return doctor.Checkup(problems=problems, remaining=list(problems))

    # models
    def has_model(self, run_id: str) -> bool:
        """Bundles are written to a scratch folder and renamed: the folder means complete."""
        return self.workspace.bundle_dir(run_id).is_dir()

    def files_problem(self, run: Run) -> str | None:
        """What of an ended run's files was removed outside the workbench (its folder, its
        model), in one sentence; None when nothing is missing."""
        return self.workspace.files_problem(run)

    def _bundle_dir(self, run_id: str) -> Path:
        """The run's model folder, or a sentence saying why there is none."""
        bundle = self.workspace.bundle_dir(run_id)
        if bundle.is_dir():
            return bundle
        run = self.run(run_id)
        lost = self.workspace.files_problem(run)
        if lost is not None:
            raise UserError(f"{lost} Delete the run (lstm-core delete) or train it again.")
        raise UserError(
            f"Run '{run_id}' has no saved model: it is {run.status}, and only a completed "
            "run has one; see lstm-core runs."
        )

    def load_model(self, run_id: str) -> Bundle:
        """The run's saved model, ready to predict from raw strings (loaded in safe mode)."""
        from lstm_core.models.bundle import Bundle

        return Bundle.load(self._bundle_dir(run_id))

    def predict(
        self, run_id: str, texts: list[str], model: Bundle | None = None
    ) -> list[LabelledText]:
        """Each text's label; an empty one is refused (the model would still answer).
        `model`: the run's bundle when the caller keeps it loaded (a server)."""
        for number, text in enumerate(texts, 1):
            if not text.strip():
                raise UserError(f"Text {number} is empty; give some words to label.")
        return (model or self.load_model(run_id)).predict(texts)

    def explain(self, run_id: str, text: str, model: Bundle | None = None) -> Explanation:
        """Why the run's model labels `text` so: token attributions and its gates
        (`model`: the run's bundle when the caller already loaded it)."""
        from lstm_core.insight.inside import explain

        if not text.strip():  # it would attribute the answer to an [unknown] token
            raise UserError("The text is empty; give some words to explain.")
        return explain(model or self.load_model(run_id), text)

    def held_out(self, run_id: str) -> list[HeldOutText]:
        """The held-out texts with the model's and the baseline's answers, each with its
        loss, length and whether it also is a training text (empty if none were kept)."""
        from lstm_core.data.datasets import load_dataset
        from lstm_core.data.vectorizer import SequenceVectorizer
        from lstm_core.insight.error_analysis import held_out

        path = self.workspace.predictions_file(self.run(run_id).id)
        key = (run_id, path.stat().st_mtime_ns if path.exists() else None)
        if key not in self._held_out:  # a slider's every move asks again
            predictions = self.test_predictions(run_id)
            items: list[HeldOutText] = []
            if predictions:
                run = self.run(run_id)
                texts = load_dataset(self.workspace, run.dataset.id).texts
                test_rows = {p.row for p in predictions}
                train_texts = [t for i, t in enumerate(texts) if i not in test_rows]
                fixed = run.spec.fixed()
                tokenize = SequenceVectorizer(
                    lowercase=fixed["lowercase"],
                    strip_punctuation=fixed["strip_punctuation"],
                    strip_html=fixed["strip_html"],
                ).tokenize
                items = held_out(predictions, train_texts, tokenize)
            self._held_out = {key: items}  # one run at a time is looked at
        return self._held_out[key]

    def metrics_by_length(self, run_id: str) -> list[LengthSlice]:
        from lstm_core.insight.error_analysis import by_length

        return by_length(self.held_out(run_id))

    def threshold_metrics(self, run_id: str, positive: str, threshold: float) -> ThresholdMetrics:
        """A two-class run decided at `threshold` on `positive`'s probability."""
        from lstm_core.insight.error_analysis import at_threshold

        negative = self._other_class(run_id, positive)
        return at_threshold(self.held_out(run_id), positive, negative, threshold)

    def calibration(self, run_id: str, positive: str, bins: int = 10) -> list[CalibrationBin]:
        from lstm_core.insight.error_analysis import calibration

        self._other_class(run_id, positive)
        return calibration(self.held_out(run_id), positive, bins)

    def _other_class(self, run_id: str, positive: str) -> str:
        result = self.result(run_id)
        labels = result.test.labels if result else []
        if len(labels) != 2 or positive not in labels:
            raise UserError(
                f"A decision threshold needs a two-class run and one of its classes; run "
                f"{run_id} has {', '.join(labels) or 'no result'}."
            )
        if not self.held_out(run_id):
            raise UserError(
                f"Run {run_id} kept no held-out predictions (an older version trained it); "
                "train it again to analyse them."
            )
        return next(label for label in labels if label != positive)

    def errors(self, run_id: str) -> list[TestPrediction]:
        """The held-out texts the model got wrong, most confidently wrong first."""
        wrong = [p for p in self.test_predictions(run_id) if p.predicted != p.true]
        return sorted(wrong, key=lambda p: p.probabilities.get(p.true, 0.0))

    def export_model(self, run_id: str, destination: str | os.PathLike) -> Path:
        """The model bundle as one zip file (the destination is checked before writing)."""
        from lstm_core.models.bundle import export_zip

        destination = Path(destination)
        if destination.is_dir():
            raise UserError(
                f"'{destination}' is a folder; give the zip file's name, "
                f"e.g. {destination / 'model.zip'}."
            )
        if not destination.parent.is_dir():
            raise UserError(
                f"There is no folder '{destination.parent}'; create it or choose another path."
            )
        bundle = self._bundle_dir(run_id)
        try:
            return export_zip(bundle, destination)
        except OSError as exc:
            destination.unlink(missing_ok=True)
            raise UserError(f"Could not write '{destination}': {exc.strerror or exc}.") from None

    def code(self, run_id: str, filename: str = "train_run.py") -> str:
        """The run's best configuration as a plain Keras + scikeras + scikit-learn script that
        reads the data file as the run's dataset was read."""
        from lstm_core.insight.code_export import render

        result = self.result(run_id)
        if result is None:
            raise UserError(f"Run '{run_id}' has no result to write as code; pick a completed run.")
        run = self.run(run_id)
        return render(run, result, filename, self.dataset_reading(run.dataset.id))

    def export_code(self, run_id: str, destination: str | os.PathLike) -> Path:
        destination = Path(destination)
        if destination.suffix != ".py":
            raise UserError(f"'{destination}' should end in .py, for example train_run.py.")
        if not destination.parent.is_dir():
            raise UserError(
                f"There is no folder '{destination.parent}'; create it or choose another path."
            )
        text = self.code(run_id, destination.name)
        try:
            destination.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"Could not write '{destination}': {exc.strerror or exc}.") from None
        return destination

    def serve(
        self,
        run_id: str,
        host: str = SERVE_HOST,
        port: int = SERVE_PORT,
        ready: Callable[[str], None] = print,
    ) -> None:
        """Answer `/predict`, `/explain`, `/model` and `/health` over HTTP until Ctrl-C; the
        port is bound first (a port in use is said at once), then the model loads once;
        `ready` hears the address (port 0: any free one). Listening beyond this machine takes a `host` such as 0.0.0.0."""
        from lstm_core.api.serving import serve

        serve(self, run_id, host, port, ready)

    def mlflow_missing(self) -> str | None:
        """How to install MLflow, in one sentence, where it is missing; None where it is not."""
        from lstm_core.insight.mlflow_export import missing

        return missing()

    def default_tracking_uri(self) -> str:
        """An MLflow database inside the workspace (its artifacts in `mlruns/` beside it)."""
        return f"sqlite:///{self.root.resolve() / 'mlflow.db'}"

    def export_mlflow(
        self, run_id: str, tracking_uri: str, experiment: str = MLFLOW_EXPERIMENT
    ) -> MlflowExport:
        """Write a completed run into MLflow: a parent run, a child run per candidate (its
        hyperparameters, per-epoch metrics, CV score), the held-out scores, the confusion
        matrix and the model; a run exported before is found, not written twice."""
        from lstm_core.insight.mlflow_export import export_run

        result = self.result(run_id)
        if result is None:
            raise UserError(
                f"Run '{run_id}' has no result to export: it is {self.run(run_id).status}; "
                "pick a completed run."
            )
        bundle = self._bundle_dir(run_id)
        return export_run(
            self.run(run_id),
            result,
            self.trials(run_id),
            self.epochs(run_id),
            self.candidates(run_id),
            bundle,
            tracking_uri,
            experiment,
        )

    def model_zip(self, run_id: str) -> bytes:
        with tempfile.TemporaryDirectory() as scratch:
            return self.export_model(run_id, Path(scratch) / "model.zip").read_bytes()


def _source(source: str | os.PathLike | bytes, name: str) -> tuple[Path | bytes, str]:
    if isinstance(source, bytes):
        return source, name or "uploaded file"
    path = Path(source)
    if not path.is_file():
        raise UserError(f"There is no file '{path}'; check the path.")
    return path, name or path.name


def _within(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise UserError(
            f"{what} can have at most {limit:,} characters; this one has {len(text):,}: shorten it."
        )
    return text
