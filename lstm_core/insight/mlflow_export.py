"""A finished run written into an MLflow tracking server, so it sits beside a team's other
experiments: `lstm-core export-mlflow` and the Runs page's button.

The run becomes a parent MLflow run (the search's design, the best configuration, the
held-out scores, the confusion matrix as a figure, the model bundle whose `model.keras`
loads in plain Keras) with one child run per candidate (its hyperparameters, each fold's
per-epoch metrics with the epoch as step, its cross-validated score). MLflow is an extra
(`pip install -e ".[mlflow]"`); it is imported only here, only when exporting. Exporting a
run again finds the earlier export instead of writing a second copy. What is written is
built in `lstm_core.insight.mlflow_records`; this module only talks to MLflow.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lstm_core.domain.entities import CandidateResult, Epoch, Run, RunResult, Trial
from lstm_core.domain.errors import UserError
from lstm_core.domain.plain import to_plain
from lstm_core.insight.mlflow_records import (
    NOT_IN_A_KEY,
    ROLE_TAG,
    RUN_TAG,
    CandidateFits,
    Point,
    by_candidate,
    candidate_metrics,
    candidate_tags,
    run_metrics,
    run_params,
    run_tags,
)

MISSING = 'MLflow is not installed here: pip install -e ".[mlflow]" adds it (mlflow-skinny).'
DEFAULT_EXPERIMENT = "lstm-workbench"
SQLITE = "sqlite:///"
# MLflow's own environment variables for its HTTP client (a person's own settings win)
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
BATCH = 100  # MLflow takes at most 100 params (1,000 metrics) in one log_batch
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
            tags=run_tags(run),
            run_name=run.title,
        )
        parent_id = parent.info.run_id
        _log(
            client,
            parent_id,
            run_params(run, result),
            run_metrics(result, trials, epochs),
            run.finished_at,
        )
        _log_evaluation(client, parent_id, result)
        client.log_artifacts(parent_id, str(bundle), "model")
        children = [
            _log_candidate(client, experiment_id, run, parent_id, group)
            for group in by_candidate(trials, epochs, candidates)
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
    return (database.parent / "mlruns" / NOT_IN_A_KEY.sub("_", experiment)).as_uri()


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


def _log_candidate(
    client, experiment_id: str, run: Run, parent_id: str, group: CandidateFits
) -> str:
    child = client.create_run(
        experiment_id,
        start_time=_ms(group.started_at),
        tags=candidate_tags(run, parent_id, group),
        run_name=group.label,
    )
    ended = group.ended_at
    _log(client, child.info.run_id, group.fits[0].params, candidate_metrics(group), ended)
    client.set_terminated(child.info.run_id, "FINISHED", end_time=_ms(ended))
    return child.info.run_id


def _log(
    client,
    run_id: str,
    params: dict[str, object],
    metrics: list[Point],
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
        Metric(point.key, float(point.value), _ms(point.logged_at or when) or 0, point.step)
        for point in metrics
    ]
    for start in range(0, len(points), 10 * BATCH):
        client.log_batch(run_id, metrics=points[start : start + 10 * BATCH])


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)
