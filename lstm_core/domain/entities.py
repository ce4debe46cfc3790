"""The engine's typed answers: what pages, the CLI and scripts get instead of rows and dicts.

Frozen dataclasses, in the spirit of MLflow's entities: datasets, runs, trials, epochs and
results. The insight pages' answers are in `analysis`, a cluster's in `cluster_view`;
`plain` turns any of them into JSON values and back. Nothing here imports anything heavy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from lstm_core.domain.hyperparams import ARCHITECTURE_NAMES, show_value
from lstm_core.domain.plain import to_plain
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def active(self) -> bool:
        """Waiting for or holding a worker."""
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def finished(self) -> bool:
        return not self.active

    @property
    def resumable(self) -> bool:
        """Ended before its result: resuming keeps its finished fits and does the rest."""
        return self in (RunStatus.CANCELLED, RunStatus.INTERRUPTED, RunStatus.FAILED)


class TrialStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    PRUNED = "pruned"  # stopped after an epoch: its candidate was clearly behind


@dataclass(frozen=True)
class Dataset:
    """A frozen choice of text and label columns (its id is a hash of its rows)."""

    id: str
    name: str
    text_column: str
    label_column: str
    rows: int
    class_counts: dict[str, int] = field(default_factory=dict)
    created_at: float = 0.0
    note: str | None = None

    def describe(self) -> str:
        return f"{self.name} · {self.text_column} → {self.label_column} · {self.rows:,} texts"


@dataclass(frozen=True)
class Run:
    id: str
    created_at: float
    status: RunStatus
    spec: ExperimentSpec
    dataset: Dataset
    pid: int | None = None
    heartbeat_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    trials_done: int = 0
    trials_total: int | None = None
    error: str | None = None
    traceback: str | None = None
    worker_host: str | None = None
    worker_start: int | None = None
    name: str | None = None
    note: str | None = None

    @property
    def title(self) -> str:
        """The name a person gave the run, else its id."""
        return self.name or self.id

    @property
    def owner(self) -> WorkerIdentity | None:
        """The process that holds this run (a worker, or the CLI for a foreground run)."""
        if self.pid is None or self.worker_host is None:
            return None
        return WorkerIdentity(self.pid, self.worker_host, self.worker_start)

    @property
    def architectures(self) -> list[str]:
        """Display names of the architectures this run searches."""
        return [ARCHITECTURE_NAMES[a] for a in self.spec.architectures()]


@dataclass(frozen=True)
class Trial:
    """One fit: a candidate on a fold, or (fold None) the refit of the best candidate."""

    id: int
    run_id: str
    candidate: int | None
    round: int
    fold: int | None
    params: dict[str, Any]
    n_train: int
    epochs_planned: int
    status: TrialStatus
    started_at: float
    pid: int | None = None
    worker: str | None = None
    finished_at: float | None = None
    progress: float = 0.0
    score: float | None = None
    accuracy: float | None = None
    number: int = 0  # 1, 2, ... within its run, in the order the fits started

    @property
    def is_refit(self) -> bool:
        return self.fold is None

    @property
    def architecture(self) -> str:
        return ARCHITECTURE_NAMES[self.params["arch"]]

    def describe(self) -> str:
        """'LSTM u32 fold 1', or '... refit' for the refit of the best candidate."""
        where = "refit" if self.is_refit else f"fold {self.fold}"
        return f"{self.architecture} u{self.params['units']} {where}"

    @property
    def seconds(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True)
class Epoch:
    trial_id: int
    epoch: int
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    seconds: float | None = None
    logged_at: float = 0.0

    def metrics(self) -> dict[str, float]:
        """The metrics that were recorded, by Keras' names."""
        names = ("loss", "accuracy", "val_loss", "val_accuracy")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class Progress:
    run_id: str
    status: RunStatus
    pid: int | None
    trials_done: int
    trials_total: int
    epochs_logged: int
    fraction: float
    elapsed_s: float | None
    eta_s: float | None
    latest: Epoch | None
    error: str | None
    started_at: float | None = None
    pruned_candidates: int = 0  # stopped early: their folds count as done, none trained on

    def fits_summary(self) -> str:
        """'13 of 13 fits done (2 candidates stopped early by pruning)': the one way a run's
        fits are counted, in the runs table, the summary and `status` alike."""
        pruned = (
            f" ({self.pruned_candidates} candidate(s) stopped early by pruning)"
            if self.pruned_candidates
            else ""
        )
        return f"{self.trials_done} of {self.trials_total} fits done{pruned}"


@dataclass(frozen=True)
class Estimate:
    """A run's wall time before it starts: a best guess, a range, and what it rests on
    (`lstm_core.insight.estimates`), so that a guess is never read as a measurement."""

    seconds: float
    low: float
    high: float
    basis: str  # "From 3 earlier runs on this data." or "No finished run here yet: ..."
    runs: int = 0  # finished runs it learned from; 0: the built-in guess


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class RocCurve:
    fpr: list[float]
    tpr: list[float]


@dataclass(frozen=True)
class PrCurve:
    recall: list[float]
    precision: list[float]


@dataclass(frozen=True)
class Evaluation:
    """Scores on the held-out test split; ROC and PR only for two classes."""

    accuracy: float
    macro_f1: float
    labels: list[str]
    per_class: dict[str, ClassScores]
    confusion_matrix: list[list[int]]
    n_test: int
    positive_label: str | None = None
    roc_auc: float | None = None
    pr_auc: float | None = None
    roc_curve: RocCurve | None = None
    pr_curve: PrCurve | None = None
    model: str | None = None
    fit_seconds: float | None = None

    def summary(self) -> dict:
        """Plain values without the curve points (those are for charts, not terminals)."""
        plain = to_plain(self)
        return {k: v for k, v in plain.items() if not k.endswith("_curve") and v is not None}


@dataclass(frozen=True)
class ParameterCounts:
    """Weights that train, and weights kept as they started (transferred, frozen)."""

    trainable: int
    frozen: int


@dataclass(frozen=True)
class VectorsCoverage:
    """How much of the final model's vocabulary started from a word vector: the share of its
    words, and of the training texts' running tokens."""

    coverage_vocabulary: float
    coverage_tokens: float
    words: int = 0  # vocabulary words (padding and unknown aside)
    covered: int = 0
    source: str = ""  # the vectors file's name, or "self-trained word2vec"


@dataclass(frozen=True)
class TextFile:
    """A word-vector file or an unlabelled text file kept in the workspace."""

    id: str
    name: str
    kind: str  # "vectors" or "corpus"
    bytes: int
    added_at: float
    words: int | None = None  # vectors files: words and dimensions
    dim: int | None = None

    def describe(self) -> str:
        if self.kind == "vectors":
            return f"{self.name} · {self.words:,} words × {self.dim} dimensions"
        return f"{self.name} · {self.bytes / 1024**2:.1f} MB of text"


class RepeatedTexts:
    """How a run's held-out split treated texts that repeat (retweets): `RunResult.repeats`."""

    TOGETHER = "together"  # every repeat of a text on one side: no held-out text was trained on
    APART = "apart"  # repeats could fall on both sides (turned off, or too few distinct texts)
    NONE = "none"  # no text repeats another


@dataclass(frozen=True)
class RunResult:
    best_params: dict[str, Any]
    best_config: dict[str, Any]
    cv_best_score: float
    scoring: str
    test: Evaluation
    baseline: Evaluation
    n_train: int
    n_test: int
    sequence_length: int
    longest_text_tokens: int
    vocabulary_size: int
    search_seconds: float
    grid_seconds: float | None = None
    median_epoch_seconds: float | None = None
    fits: int = 0
    best_candidate: int | None = None
    majority: Evaluation | None = None
    cv_accuracy: float | None = None
    parent: str | None = None  # the run whose saved model this one started from
    parameters: ParameterCounts | None = None  # while the first phase trains
    vectors: VectorsCoverage | None = None  # with word vectors: how much they covered
    backend: str | None = None  # the Keras backend the final model trained on
    launch_load: float | None = None  # runnable processes beside it when it started
    repeats: str = ""  # a `RepeatedTexts` value; "" for runs from before it was recorded

    def cv(self) -> dict[str, Any]:
        """The best candidate's mean CV score (for the run's metric) and mean CV accuracy."""
        return {"scoring": self.scoring, "score": self.cv_best_score, "accuracy": self.cv_accuracy}

    def baseline_wins(self) -> list[str]:
        """The measures ('accuracy', 'macro-F1') on which the TF-IDF baseline scores higher
        on the held-out texts (by more than half a point in a hundred: a tie is no win)."""
        pairs = (
            ("accuracy", self.test.accuracy, self.baseline.accuracy),
            ("macro-F1", self.test.macro_f1, self.baseline.macro_f1),
        )
        return [name for name, model, baseline in pairs if baseline > model + 0.005]

    def describe_best(self) -> str:
        """The winning values of what was searched ('LSTM, units 32'), or its architecture."""
        searched = ", ".join(
            show_value(k, v) if k == "arch" else f"{k.replace('_', ' ')} {show_value(k, v)}"
            for k, v in self.best_params.items()
        )
        return searched or ARCHITECTURE_NAMES[self.best_config["arch"]]


def candidate_labels(trials: list[Trial]) -> dict[tuple[int, int] | None, str]:
    """Each candidate named by its architecture and every value that differs between the
    run's candidates ('candidate 3 · LSTM, units 10, learning rate 0.0079'), so two
    candidates never read alike; keyed by (candidate, round), the refit under None."""
    searched = {(t.candidate, t.round): t.params for t in trials if not t.is_refit}
    names = sorted({name for params in searched.values() for name in params} - {"arch"})
    differ = [
        name
        for name in names
        if len({show_value(name, params.get(name)) for params in searched.values()}) > 1
    ]

    def values(params: dict[str, Any]) -> str:
        shown = [f"{n.replace('_', ' ')} {show_value(n, params.get(n))}" for n in differ]
        return ", ".join([show_value("arch", params["arch"]), *shown])

    labels: dict[tuple[int, int] | None, str] = {
        (candidate, round_): f"candidate {candidate + 1} · {values(params)}"
        + (f" · round {round_ + 1}" if round_ else "")
        for (candidate, round_), params in searched.items()
    }
    for trial in trials:
        if trial.is_refit:
            labels[None] = f"refit of the best · {values(trial.params)}"
    return labels


def pruned_candidates(trials: list[Trial]) -> set[int]:
    """Candidates a pruner stopped: none of their fits is a score."""
    return {t.candidate for t in trials if t.status == TrialStatus.PRUNED}


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's cross-validated score in one round (halving has several rounds)."""

    candidate: int
    round: int
    config: dict[str, Any]
    mean_score: float
    std_score: float
    fold_scores: list[float]
    mean_fit_seconds: float
    n_train: int

    @property
    def architecture(self) -> str:
        return ARCHITECTURE_NAMES[self.config["arch"]]
