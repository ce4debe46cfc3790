"""How far a run is: trials done of total, a fraction, elapsed time and an ETA.

Derived from what the workers wrote, so every reader (CLI, dashboard, a second browser
tab) computes the same answer from the store alone.
"""

from __future__ import annotations

import time

from lstm_core.store import COMPLETED, RUNNING, RunStore


def run_progress(store: RunStore, run_id: str) -> dict | None:
    run = store.get_run(run_id)
    if run is None:
        return None
    trials = store.trials(run_id)
    epochs = store.epochs(run_id)
    done = sum(t["status"] == COMPLETED for t in trials)
    total = max(run["trials_total"] or 0, len(trials), 1)
    in_flight = sum(t["batch_progress"] for t in trials if t["status"] == RUNNING)
    fraction = 1.0 if run["status"] == COMPLETED else min(1.0, (done + in_flight) / total)
    elapsed = None
    if run["started_at"]:
        elapsed = (run["finished_at"] or time.time()) - run["started_at"]
    eta = None
    if run["status"] == RUNNING and elapsed and fraction > 0:
        eta = elapsed * (1 - fraction) / fraction
    latest = max(epochs, key=lambda e: e["logged_at"]) if epochs else None
    return {
        "run_id": run_id,
        "status": run["status"],
        "pid": run["pid"],
        "trials_done": done,
        "trials_total": total,
        "epochs_logged": len(epochs),
        "progress": round(fraction, 4),
        "elapsed_s": None if elapsed is None else round(elapsed, 1),
        "eta_s": None if eta is None else round(eta, 1),
        "latest_metrics": latest,
        "error": run["error"],
    }
