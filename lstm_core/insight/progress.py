"""How far a run is: fits done of total, a fraction, elapsed time and an ETA.

Derived from what the run recorded, so every reader (CLI, dashboard, a second browser tab)
computes the same answer from the store alone. Fits done by an earlier attempt of a
resumed run count as done; the elapsed time and the ETA are those of the current attempt.
"""

from __future__ import annotations

import time

from lstm_core.domain.entities import (
    Epoch,
    Progress,
    Run,
    RunStatus,
    Trial,
    TrialStatus,
    pruned_candidates,
)
from lstm_core.store import fit_counts


def fits_done(run: Run, trials: list[Trial]) -> int:
    """Completed fits, counted by the one rule the runs list uses (`fit_counts`)."""
    return fit_counts.fits_done(fit_counts.tallies(trials), run.spec.n_splits())


def fit_fraction(trial: Trial, epochs: list[Epoch]) -> float:
    """How far a running fit is: its batches so far, and never less than its logged epochs
    say (a fit reports batches now and then, so an epoch can land before its first report;
    the bar then stood at 0 beside a logged epoch)."""
    logged = sum(e.trial_id == trial.id for e in epochs)
    by_epochs = min(1.0, logged / trial.epochs_planned) if trial.epochs_planned else 0.0
    return max(trial.progress, by_epochs)


def run_progress(run: Run, trials: list[Trial], epochs: list[Epoch]) -> Progress:
    done = fits_done(run, trials)
    total = max(run.trials_total or 0, done, 1)
    in_flight = sum(fit_fraction(t, epochs) for t in trials if t.status == TrialStatus.RUNNING)
    completed = run.status == RunStatus.COMPLETED
    fraction = 1.0 if completed else min(1.0, (done + in_flight) / total)
    elapsed = None
    if run.started_at:
        elapsed = (run.finished_at or time.time()) - run.started_at
    eta = None
    started_here = [t for t in trials if run.started_at and t.started_at >= run.started_at]
    if run.status == RunStatus.RUNNING and elapsed and started_here:
        done_here = fits_done(run, started_here) + in_flight
        left = total - done - in_flight
        if done_here > 0:
            eta = elapsed / done_here * max(0.0, left)
        if eta is not None and run.spec.time_budget_s:  # no candidate starts after it,
            per_candidate = elapsed / done_here * run.spec.n_splits()  # but the last ends
            eta = min(eta, max(0.0, run.spec.time_budget_s - elapsed) + per_candidate)
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
        pruned_candidates=len(pruned_candidates(trials)),
    )
