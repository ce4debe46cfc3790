"""The JSON the CLI prints for runs, fits, progress and results: a contract with scripts,
so every key is written out here rather than derived from the entities."""

from __future__ import annotations

from lstm_core.api import Progress, Run, RunResult, Trial, to_plain


def run_json(run: Run) -> dict:
    return {
        "id": run.id,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "trials_done": run.trials_done,
        "trials_total": run.trials_total,
        "architectures": run.architectures,
        "dataset": {
            "id": run.dataset.id,
            "name": run.dataset.name,
            "text_column": run.dataset.text_column,
            "label_column": run.dataset.label_column,
            "rows": run.dataset.rows,
        },
        "spec": run.spec.to_dict(),
        "error": run.error,
        "name": run.name,
        "note": run.note,
    }


def trial_json(trial: Trial) -> dict:
    return {
        "id": trial.id,
        "number": trial.number,
        "candidate": trial.candidate,
        "round": trial.round,
        "fold": trial.fold,
        "status": trial.status,
        "score": trial.score,
        "accuracy": trial.accuracy,
        "n_train": trial.n_train,
        "pid": trial.pid,
        "worker": trial.worker,
        "params": trial.params,
    }


def progress_json(progress: Progress, trials: list[Trial]) -> dict:
    return {
        "run_id": progress.run_id,
        "status": progress.status,
        "pid": progress.pid,
        "trials_done": progress.trials_done,
        "trials_total": progress.trials_total,
        "epochs_logged": progress.epochs_logged,
        "progress": progress.fraction,
        "elapsed_s": progress.elapsed_s,
        "eta_s": progress.eta_s,
        "latest_metrics": to_plain(progress.latest),
        "error": progress.error,
        "started_at": progress.started_at,
        "trials": [trial_json(t) for t in trials],
    }


def result_json(result: RunResult | None) -> dict:
    """What a finished run scored: held-out test, both baselines, cross-validation."""
    if result is None:
        return {
            "test": None,
            "baseline": None,
            "majority": None,
            "cv": None,
            "parent": None,
            "parameters": None,
            "vectors": None,
        }
    return {
        "test": result.test.summary(),
        "baseline": result.baseline.summary(),
        "majority": result.majority and result.majority.summary(),
        "cv": result.cv(),
        "parent": result.parent,
        "parameters": to_plain(result.parameters),
        "vectors": to_plain(result.vectors),
    }
