"""A finished run written into an MLflow tracking server, so it sits beside a team's other
experiments: `lstm-core export-mlflow` and the Runs page's button.

The run becomes a parent MLflow run (the search's design, the best configuration, the
held-out scores, the confusion matrix as a figure, the model bundle whose `model.keras`
loads in plain Keras) with one child run per candidate (its hyperparameters, each fold's
per-epoch metrics with the epoch as step, its cross-validated score). MLflow is an extra
(`pip install -e ".[mlflow]"`); it is imported only here, only when exporting. Exporting a
run again finds the earlier export instead of writing a second copy.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import json
import os
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

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
    to_plain,
)
from lstm_core.domain.errors import UserError

MISSING = 'MLflow is not installed here: pip install -e ".[mlflow]" adds it (mlflow-skinny).'
DEFAULT_EXPERIMENT = "lstm-workbench"
RUN_TAG = "lstm_workbench.run_id"  # the workbench run an MLflow run came from
ROLE_TAG = "lstm_workbench.role"  # "run" (the parent) or "candidate"
MODEL_ARTIFACT = "model/model.keras"
SQLITE = "sqlite:///"
# MLflow's own environment variables for its HTTP client (a person's own settings win)
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
BATCH = 100  # MLflow takes at most 100 params (1,000 metrics) in one log_batch
# MLflow metric names: letters, digits, _ - . space : /; a label may hold anything else
_NOT_IN_A_KEY = re.compile(r"[^\w\- ]")
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class MlflowExport:
    """Where a run went in MLflow: its parent run and one child run per candidate."""

    tracking_uri: str
    experiment_id: str
    experiment_name: str
    parent_run_id: str
    child_run_ids: list[str]
    already: bool = False  # exported before: nothing was written this time

    def describe(self) -> str:
        again = "was already" if self.already else "is now"
        return (
            f"It {again} MLflow run {self.parent_run_id} in experiment "
            f"'{self.experiment_name}' with {len(self.child_run_ids)} candidate run(s), "
            f"at {self.tracking_uri}."
        )


def missing() -> str | None:
    """The sentence to show where MLflow is not installed; None where it is."""
    return None if importlib.util.find_spec("mlflow") else MISSING


def export_run(
    run: Run,
    result: RunResult,
    trials: list[Trial],
    epochs: list[Epoch],
    candidates: list[CandidateResult],
    bundle: Path,
    tracking_uri: str,
    experiment: str = DEFAULT_EXPERIMENT,
) -> MlflowExport:
    """Write the run into MLflow at `tracking_uri`, or find it there from an earlier export."""
    tracking_uri, experiment = tracking_uri.strip(), experiment.strip()
    if not tracking_uri:
        raise UserError("Give MLflow's tracking URI, e.g. sqlite:///mlflow.db.")
    if not experiment:
        raise UserError("Give the MLflow experiment's name, e.g. lstm-workbench.")
    artifacts = _artifacts_beside(tracking_uri, experiment)
    if missing():
        raise UserError(MISSING)
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    _answer_soon()
    parent = None
    try:
        client = MlflowClient(tracking_uri=tracking_uri)  # an unknown scheme raises here
        experiment_id = _experiment(client, experiment, artifacts)
        earlier = _earlier_export(client, experiment_id, run.id)
        if earlier is not None:
            return MlflowExport(tracking_uri, experiment_id, experiment, *earlier, already=True)
        parent = client.create_run(
            experiment_id,
            start_time=_ms(run.started_at or run.created_at),
            tags=_run_tags(run),
            run_name=run.title,
        )
        parent_id = parent.info.run_id
        _log(
            client,
            parent_id,
            _run_params(run, result),
            _run_metrics(result, trials, epochs),
            run.finished_at,
        )
        _log_evaluation(client, parent_id, result)
        client.log_artifacts(parent_id, str(bundle), "model")
        children = [
            _log_candidate(client, experiment_id, run, parent_id, *candidate)
            for candidate in _by_candidate(trials, epochs, candidates)
        ]
        client.set_terminated(parent_id, "FINISHED", end_time=_ms(run.finished_at))
    except (MlflowException, OSError) as exc:
        if parent is not None:  # half written: the next export replaces it
            with contextlib.suppress(MlflowException, OSError):  # the server may be gone
                client.set_terminated(parent.info.run_id, "FAILED")
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"MLflow at {tracking_uri} refused the export ({first[:200]}).") from None
    return MlflowExport(tracking_uri, experiment_id, experiment, parent_id, children)


def _answer_soon() -> None:
    """An unreachable tracking server fails the export in seconds, not after MLflow's
    default seven retries of two minutes each (a person waits on the Runs page)."""
    for variable, value in HTTP_LIMITS.items():
        os.environ.setdefault(variable, value)


def _artifacts_beside(tracking_uri: str, experiment: str) -> str | None:
    """A SQLite database's artifacts go in `mlruns/EXPERIMENT/` beside it, wherever the
    export runs from (MLflow's default is `./mlruns` under the current folder)."""
    if not tracking_uri.startswith(SQLITE):
        return None
    database = Path(unquote(tracking_uri[len(SQLITE) :].split("?")[0])).expanduser().resolve()
    if not database.parent.is_dir():
        raise UserError(
            f"There is no folder '{database.parent}' for the MLflow database; create it or "
            "choose another path."
        )
    return (database.parent / "mlruns" / _NOT_IN_A_KEY.sub("_", experiment)).as_uri()


def _experiment(client, name: str, artifacts: str | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, artifact_location=artifacts)
    if found.lifecycle_stage == "deleted":
        raise UserError(
            f"MLflow experiment '{name}' was deleted; restore it there or choose another name."
        )
    return found.experiment_id


def _earlier_export(client, experiment_id: str, run_id: str) -> tuple[str, list[str]] | None:
    """A finished earlier export's parent and children; an unfinished one is deleted."""
    found = client.search_runs(
        [experiment_id], f"tags.`{RUN_TAG}` = '{run_id}' AND tags.`{ROLE_TAG}` = 'run'"
    )
    complete = None
    for parent in found:
        children = client.search_runs(
            [experiment_id],
            f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
            order_by=["attributes.start_time ASC"],
        )
        if parent.info.status == "FINISHED" and complete is None:
            complete = parent.info.run_id, [child.info.run_id for child in children]
            continue
        for stale in [*children, parent]:
            client.delete_run(stale.info.run_id)
    return complete


def _run_tags(run: Run) -> dict[str, str]:
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


def _run_params(run: Run, result: RunResult) -> dict[str, object]:
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


def _run_metrics(
    result: RunResult, trials: list[Trial], epochs: list[Epoch]
) -> list[tuple[str, float, int, float | None]]:
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
    logged = [(key, value, 0, None) for key, value in metrics if value is not None]
    refit = {t.id for t in trials if t.is_refit}
    return logged + [
        (f"refit/{name}", value, epoch.epoch, epoch.logged_at)
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
        key = _NOT_IN_A_KEY.sub("_", label)[:100] or "_"
        keys[label] = key if key not in keys.values() else f"{key}_{number}"
    return keys


def _log_evaluation(client, run_id: str, result: RunResult) -> None:
    """The held-out confusion matrix as a figure and as numbers, and every score as JSON."""
    import plotly.graph_objects as go

    test = result.test
    ticks = [html.escape(_BIDI_CONTROLS.sub("", label)) for label in test.labels]
    figure = go.Figure(
        go.Heatmap(
            z=test.confusion_matrix,
            x=ticks,
            y=ticks,
            colorscale="Blues",
            text=test.confusion_matrix,
            texttemplate="%{text}",
        )
    )
    figure.update_layout(
        title=f"Held-out confusion matrix ({test.n_test} texts)",
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
    )
    client.log_figure(run_id, figure, "confusion_matrix.html")
    client.log_dict(
        run_id, {"labels": test.labels, "matrix": test.confusion_matrix}, "confusion_matrix.json"
    )
    scores = {"test": test, "baseline": result.baseline, "majority": result.majority}
    client.log_dict(
        run_id,
        {name: e.summary() for name, e in scores.items() if e is not None},
        "evaluation.json",
    )


def _by_candidate(
    trials: list[Trial], epochs: list[Epoch], candidates: list[CandidateResult]
) -> list[tuple[int, list[Trial], list[Epoch], list[CandidateResult], str]]:
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
            (
                candidate,
                own,
                [e for t in own for e in by_trial[t.id]],
                [c for c in candidates if c.candidate == candidate],
                labels[(candidate, last_round)],
            )
        )
    return grouped


def _log_candidate(
    client,
    experiment_id: str,
    run: Run,
    parent_id: str,
    candidate: int,
    fits: list[Trial],
    epochs: list[Epoch],
    scores: list[CandidateResult],
    label: str,
) -> str:
    pruned = candidate in pruned_candidates(fits)
    child = client.create_run(
        experiment_id,
        start_time=_ms(min(t.started_at for t in fits)),
        tags={
            "mlflow.parentRunId": parent_id,
            RUN_TAG: run.id,
            ROLE_TAG: "candidate",
            "candidate": str(candidate + 1),  # as the pages number them
            "status": "pruned" if pruned else "completed",
        },
        run_name=label,
    )
    fit_of = {t.id: t for t in fits}
    metrics = [
        (f"{_fold_prefix(fit_of[e.trial_id])}{name}", value, e.epoch, e.logged_at)
        for e in epochs
        for name, value in e.metrics().items()
    ]
    for fit in fits:
        if fit.status == TrialStatus.COMPLETED and fit.score is not None:
            metrics.append((f"{_fold_prefix(fit)}score", fit.score, 0, fit.finished_at))
    for score in scores:  # one per round; halving's later rounds train on more rows
        metrics.append(("cv_score", score.mean_score, score.round, None))
        metrics.append(("cv_score_std", score.std_score, score.round, None))
    accuracies = [t.accuracy for t in fits if t.accuracy is not None and not pruned]
    if accuracies:
        metrics.append(("cv_accuracy", statistics.fmean(accuracies), 0, None))
    ended = max((t.finished_at or t.started_at) for t in fits)
    _log(client, child.info.run_id, fits[0].params, metrics, ended)
    client.set_terminated(child.info.run_id, "FINISHED", end_time=_ms(ended))
    return child.info.run_id


def _fold_prefix(fit: Trial) -> str:
    """`fold_0/` for the first fold; halving's later rounds as `round_1/fold_0/`."""
    return (f"round_{fit.round}/" if fit.round else "") + f"fold_{fit.fold}/"


def _log(
    client,
    run_id: str,
    params: dict[str, object],
    metrics: list[tuple[str, float, int, float | None]],
    when: float | None,
) -> None:
    """Params (JSON unless text) and metrics in as few calls as MLflow allows (one SQLite
    transaction each);
    a metric without a time of its own (a score) takes `when`, the moment it was known."""
    from mlflow.entities import Metric, Param

    plain = [
        Param(name, value if isinstance(value, str) else json.dumps(to_plain(value)))
        for name, value in params.items()
    ]
    for start in range(0, len(plain), BATCH):
        client.log_batch(run_id, params=plain[start : start + BATCH])
    points = [
        Metric(key, float(value), _ms(logged_at or when) or 0, step)
        for key, value, step, logged_at in metrics
    ]
    for start in range(0, len(points), 10 * BATCH):
        client.log_batch(run_id, metrics=points[start : start + 10 * BATCH])


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)
