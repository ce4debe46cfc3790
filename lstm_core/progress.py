"""How far a run is: fits done of total, a fraction, elapsed time and an ETA.

Derived from what the run recorded, so every reader (CLI, dashboard, a second browser tab)
computes the same answer from the store alone. Fits done by an earlier attempt of a
resumed run count as done; the elapsed time and the ETA are those of the current attempt.
"""

from __future__ import annotations

import time

from lstm_core.entities import Epoch, Progress, Run, RunStatus, Trial, TrialStatus


def run_progress(run: Run, trials: list[Trial], epochs: list[Epoch]) -> Progress:
    done = sum(t.status == TrialStatus.COMPLETED for t in trials)
    total = max(run.trials_total or 0, done, 1)
    in_flight = sum(t.progress for t in trials if t.status == TrialStatus.RUNNING)
    completed = run.status == RunStatus.COMPLETED
    fraction = 1.0 if completed else min(1.0, (done + in_flight) / total)
    elapsed = None
    if run.started_at:
        elapsed = (run.finished_at or time.time()) - run.started_at
    eta = None
    started_here = [t for t in trials if run.started_at and t.started_at >= run.started_at]
    if run.status == RunStatus.RUNNING and elapsed and started_here:
        done_here = sum(t.status == TrialStatus.COMPLETED for t in started_here) + in_flight
        left = total - done - in_flight
        if done_here > 0:
            eta = elapsed / done_here * max(0.0, left)
    latest = max(epochs, key=lambda e: e.logged_at) if epochs else None
    return Progress(
        run_id=run.id,
        status=run.status,
        pid=run.pid,
        trials_done=done,
        trials_total=total,
        epochs_logged=len(epochs),
        fraction=round(fraction, 4),
        elapsed_s=None if elapsed is None else round(elapsed, 1),
        eta_s=None if eta is None else round(eta, 1),
        latest=latest,
        error=run.error,
        started_at=run.started_at,
    )
