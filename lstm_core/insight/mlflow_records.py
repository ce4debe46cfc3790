"""A finished run as MLflow's records: tags, params, metric points, one group per candidate.

Plain values only, so they can be read and checked without MLflow installed;
`lstm_core.insight.mlflow_export` writes them through MLflow's client.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass

from lstm_core.domain.entities import (
    CandidateResult,
    Epoch,
    Evaluation,
    Run,
    RunResult,
    Trial,
    TrialStatus,
    candidate_labels,
    pruned_candidates,
)

RUN_TAG = "lstm_workbench.run_id"  # the workbench run an MLflow run came from
ROLE_TAG = "lstm_workbench.role"  # "run" (the parent) or "candidate"
MODEL_ARTIFACT = "model/model.keras"
# MLflow metric names: letters, digits, _ - . space : /; a label may hold anything else
NOT_IN_A_KEY = re.compile(r"[^\w\- ]")


@dataclass(frozen=True)
class Point:
    """One metric value: at `step` (an epoch, a round; 0 for a score), logged at
    `logged_at` (seconds; None: when the run or candidate ended)."""

    key: str
    value: float
    step: int = 0
    logged_at: float | None = None


@dataclass(frozen=True)
class CandidateFits:
    """One candidate of a run: its fits, their epochs, its scores per round, its name."""

    candidate: int
    fits: list[Trial]
    epochs: list[Epoch]
    scores: list[CandidateResult]
    label: str

    @property
    def pruned(self) -> bool:
        return self.candidate in pruned_candidates(self.fits)

    @property
    def started_at(self) -> float:
        return min(t.started_at for t in self.fits)

    @property
    def ended_at(self) -> float:
        return max((t.finished_at or t.started_at) for t in self.fits)


def run_tags(run: Run) -> dict[str, str]:
    tags = {
        RUN_TAG: run.id,
        ROLE_TAG: "run",
        "lstm_workbench.model": MODEL_ARTIFACT,
        "dataset": run.dataset.name,
        "dataset_id": run.dataset.id,
        "text_column": run.dataset.text_column,
        "label_column": run.dataset.label_column,
        "architectures": ", ".join(run.architectures),
    }
    if run.note:
        tags["mlflow.note.content"] = run.note  # the run's description in MLflow's UI
    return tags


def run_params(run: Run, result: RunResult) -> dict[str, object]:
    """The search's design, and the winning configuration under the hyperparameters' names."""
    spec = run.spec
    design = {
        "search": spec.search,
        "scoring": spec.scoring,
        "cv": spec.cv,
        "test_size": spec.test_size,
        "seed": spec.seed,
    }
    if spec.parent:
        design["parent_run"] = spec.parent
    grid = {f"grid.{name}": values for name, values in spec.grid.items()}
    ranges = {f"range.{name}": value for name, value in spec.ranges.items()}
    return {**design, **grid, **ranges, **result.best_config}


def run_metrics(result: RunResult, trials: list[Trial], epochs: list[Epoch]) -> list[Point]:
    """Held-out scores of the model and both baselines, the best candidate's CV score, and
    the refit's learning curve (`refit/loss`, ... by epoch)."""
    metrics = [
        ("cv_score", result.cv_best_score),
        ("cv_accuracy", result.cv_accuracy),
        ("n_train", result.n_train),
        ("n_test", result.n_test),
        ("sequence_length", result.sequence_length),
        ("vocabulary_size", result.vocabulary_size),
        ("search_seconds", result.search_seconds),
    ]
    for prefix, evaluation in (
        ("test", result.test),
        ("baseline", result.baseline),
        ("majority", result.majority),
    ):
        if evaluation is not None:
            metrics += _evaluation_metrics(prefix, evaluation)
    logged = [Point(key, value) for key, value in metrics if value is not None]
    refit = {t.id for t in trials if t.is_refit}
    return logged + [
        Point(f"refit/{name}", value, epoch.epoch, epoch.logged_at)
        for epoch in epochs
        if epoch.trial_id in refit
        for name, value in epoch.metrics().items()
    ]


def _evaluation_metrics(prefix: str, evaluation: Evaluation) -> list[tuple[str, float | None]]:
    metrics = [
        (f"{prefix}_accuracy", evaluation.accuracy),
        (f"{prefix}_macro_f1", evaluation.macro_f1),
        (f"{prefix}_roc_auc", evaluation.roc_auc),
        (f"{prefix}_pr_auc", evaluation.pr_auc),
    ]
    keys = _label_keys(evaluation.labels)
    for label, scores in evaluation.per_class.items():
        for measure in ("precision", "recall", "f1"):
            metrics.append((f"{prefix}_{measure}.{keys[label]}", getattr(scores, measure)))
    return metrics


def _label_keys(labels: list[str]) -> dict[str, str]:
    """Each label as part of a metric name: characters MLflow refuses become '_', and two
    labels that would then read alike are told apart by their position."""
    keys: dict[str, str] = {}
    for number, label in enumerate(labels):
        key = NOT_IN_A_KEY.sub("_", label)[:100] or "_"
        keys[label] = key if key not in keys.values() else f"{key}_{number}"
    return keys


def by_candidate(
    trials: list[Trial], epochs: list[Epoch], candidates: list[CandidateResult]
) -> list[CandidateFits]:
    """Each candidate's fits, their epochs, its scores per round and its name, in order."""
    fits: dict[int, list[Trial]] = defaultdict(list)
    for trial in trials:
        if not trial.is_refit:
            fits[trial.candidate].append(trial)
    by_trial: dict[int, list[Epoch]] = defaultdict(list)
    for epoch in epochs:
        by_trial[epoch.trial_id].append(epoch)
    labels = candidate_labels(trials)
    grouped = []
    for candidate in sorted(fits):
        own = fits[candidate]
        last_round = max(t.round for t in own)
        grouped.append(
            CandidateFits(
                candidate,
                own,
                [e for t in own for e in by_trial[t.id]],
                [c for c in candidates if c.candidate == candidate],
                labels[(candidate, last_round)],
            )
        )
    return grouped


def candidate_tags(run: Run, parent_id: str, group: CandidateFits) -> dict[str, str]:
    return {
        "mlflow.parentRunId": parent_id,
        RUN_TAG: run.id,
        ROLE_TAG: "candidate",
        "candidate": str(group.candidate + 1),  # as the pages number them
        "status": "pruned" if group.pruned else "completed",
    }


def candidate_metrics(group: CandidateFits) -> list[Point]:
    """Each fold's learning curve and score, and the candidate's CV scores per round."""
    fit_of = {t.id: t for t in group.fits}
    metrics = [
        Point(f"{_fold_prefix(fit_of[e.trial_id])}{name}", value, e.epoch, e.logged_at)
        for e in group.epochs
        for name, value in e.metrics().items()
    ]
    for fit in group.fits:
        if fit.status == TrialStatus.COMPLETED and fit.score is not None:
            metrics.append(Point(f"{_fold_prefix(fit)}score", fit.score, 0, fit.finished_at))
    for score in group.scores:  # one per round; halving's later rounds train on more rows
        metrics.append(Point("cv_score", score.mean_score, score.round))
        metrics.append(Point("cv_score_std", score.std_score, score.round))
    accuracies = [t.accuracy for t in group.fits if t.accuracy is not None and not group.pruned]
    if accuracies:
        metrics.append(Point("cv_accuracy", statistics.fmean(accuracies)))
    return metrics


def _fold_prefix(fit: Trial) -> str:
    """`fold_0/` for the first fold; halving's later rounds as `round_1/fold_0/`."""
    return (f"round_{fit.round}/" if fit.round else "") + f"fold_{fit.fold}/"
