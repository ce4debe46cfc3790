"""Keeping the queue moving: start workers for queued runs, and notice workers that died.

`dispatch` starts workers (fresh `python -m lstm_core.jobs.worker` processes, so nothing
is forked after TensorFlow is loaded) while fewer than `max_running()` runs are running,
leaving one queued run to a warm worker that waits for it (`lstm_core.jobs.standby`).
Called by a submit, by a worker that finishes, and every second by the supervisor.

A worker on this machine is judged by its process: a paused one is alive, a killed one is
gone, whatever its heartbeat says. Only a worker on another machine is judged by its
heartbeat.
"""

from __future__ import annotations

import time

from lstm_core.domain.entities import Run, RunStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.jobs import standby
from lstm_core.jobs.limits import max_running, stale_after_s
from lstm_core.jobs.spawn import start_detached
from lstm_core.store.lifecycle import InvalidTransition
from lstm_core.store.workspace import Workspace


def _why_gone(run: Run, now: float) -> str | None:
    """Why a `running` run has no worker any more; None while it has one."""
    owner = run.owner
    if owner is not None and owner.here:
        if owner.alive():
            return None
        return f"The worker process (pid {run.pid}) stopped before the run finished."
    silent = now - (run.heartbeat_at or 0)
    if silent <= stale_after_s():
        return None
    if owner is None:
        return f"No worker took the run within {silent:.0f} s."
    return f"The worker on {owner.host} sent no heartbeat for {silent:.0f} s."


def reap(workspace: Workspace, wait: bool = True) -> list[str]:
    """Mark `running` runs whose worker is gone as interrupted; returns their ids.

    `wait=False` (a reader's look) leaves them while another process holds the write lock.
    """
    if not wait and (workspace.store.read_only or workspace.store_place.writer()):
        return []
    store, now, reaped = workspace.store, time.time(), []
    for run in store.runs_with_status(RunStatus.RUNNING):
        reason = _why_gone(run, now)
        if reason is None:
            continue
        try:
            store.interrupt_run(
                run.id, reason + " Its finished fits are kept; resume it to finish the rest."
            )
        except InvalidTransition:
            continue  # it finished while we looked
        reaped.append(run.id)
    return reaped


def spawn_worker(workspace: Workspace, run_id: str) -> int:
    """A detached worker process; its output goes to the run's `worker.log`."""
    workspace.run_dir(run_id).mkdir(parents=True, exist_ok=True)
    arguments = ["-m", "lstm_core.jobs.worker", run_id]
    return start_detached(workspace, arguments, workspace.worker_log(run_id))


def dispatch(workspace: Workspace) -> list[str]:
    """Start workers for queued runs while there is room; returns the runs started.

    A run whose worker cannot be started (its folder cannot be written, say) fails at
    once with the reason, so it never holds a place in the queue.
    """
    if workspace.store.read_only:
        return []
    reap(workspace)
    started = []
    if not workspace.store.runs_with_status(RunStatus.QUEUED):
        return started
    # A waiting warm worker claims the oldest queued run itself, within a tenth of a second.
    room = max_running() - (1 if standby.waiting(workspace) else 0)
    while (run := workspace.store.claim_next(room)) is not None:
        try:
            pid = spawn_worker(workspace, run.id)
        except OSError as exc:  # fail this run; the next ones wait for the next look
            workspace.store.fail_run(
                run.id, f"No worker could be started for this run: {exc.strerror or exc}."
            )
            break
        workspace.store.attach_worker(run.id, WorkerIdentity.current_for(pid))
        started.append(run.id)
    return started
