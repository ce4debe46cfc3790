"""Background runs: a queue in the store, worker processes, and noticing workers that died.

The UI and the CLI never train in their own process. `submit` stores a queued run and
`dispatch` starts workers (fresh `python -m lstm_core.jobs.worker` processes, so nothing is
forked after TensorFlow is loaded) while fewer than `max_running()` runs are running.
A worker that finishes dispatches the next queued run; a supervisor process
(`lstm_core.jobs.supervisor`, one per workspace, started with the first submit or reader)
notices workers that died and keeps the queue moving while nobody is looking. A worker
stays warm after its run, and a reader starts one ahead of the first run
(`lstm_core.jobs.standby`): it takes the next queued run itself.

A worker on this machine is judged by its process: a paused one is alive, a killed one is
gone, whatever its heartbeat says. Only a worker on another machine is judged by its
heartbeat.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lstm_core.domain import env_settings
from lstm_core.domain.entities import Run, RunStatus
from lstm_core.domain.errors import UserError
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.execution.training import check_runnable, submit_run
from lstm_core.jobs import standby
from lstm_core.store.lock_holder import write_lock_holder
from lstm_core.store.sqlite import InvalidTransition
from lstm_core.store.store_errors import WorkspaceBusy
from lstm_core.store.workspace import HOME_VARIABLE, Workspace

MAX_RUNNING_VARIABLE = "LSTM_CORE_MAX_RUNS"
STALE_VARIABLE = "LSTM_CORE_STALE_S"
STALE_AFTER_S = 60.0
CANCELLING = "cancelling"


def max_running() -> int:
    """Runs trained at once; one by default, since one run already uses both cores here."""
    try:
        return max(1, int(os.environ.get(MAX_RUNNING_VARIABLE, "1")))
    except ValueError:
        return 1


def stale_after_s() -> float:
    """How long a worker that cannot be seen from here (on another machine, or one that never
    started) may stay silent before its run counts as interrupted (`$LSTM_CORE_STALE_S`)."""
    return env_settings.seconds(STALE_VARIABLE, STALE_AFTER_S, least=1.0)


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
    if not wait and (workspace.store.read_only or write_lock_holder(workspace.database)):
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


def _child_environment(workspace: Workspace) -> dict[str, str]:
    package_root = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        HOME_VARIABLE: str(workspace.root),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": python_path,
    }


def spawn_worker(workspace: Workspace, run_id: str) -> int:
    """A detached worker process; its output goes to the run's `worker.log`."""
    workspace.run_dir(run_id).mkdir(parents=True, exist_ok=True)
    with open(workspace.worker_log(run_id), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lstm_core.jobs.worker", run_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_environment(workspace),
            start_new_session=True,
        )
    return process.pid


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


def refresh(workspace: Workspace) -> None:
    """What a reader calls before showing runs: mark dead workers, keep the queue moving,
    make sure a supervisor watches while anything is queued or running, and otherwise
    have a warm worker wait for the next run. While another process holds the write lock
    the dashboard does not wait for it: the queue is left to the supervisor (and a writer
    stopped while it holds the lock is named by `Engine.stopped_writer`)."""
    if write_lock_holder(workspace.database) is not None:
        return
    try:
        dispatch(workspace)
    except WorkspaceBusy:
        return
    if any(r.status.active for r in workspace.store.list_runs(limit=50)):
        ensure_supervisor(workspace)
    else:
        standby.ensure(workspace, _child_environment(workspace))


def ensure_supervisor(workspace: Workspace) -> None:
    """Start the workspace's supervisor unless one runs (it holds a lock on a file)."""
    from lstm_core.jobs import supervisor

    if workspace.store.read_only or supervisor.running(workspace):
        return
    with open(workspace.root / supervisor.LOG_FILE, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "lstm_core.jobs.supervisor"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_environment(workspace),
            start_new_session=True,
        )


def submit(workspace: Workspace, spec: ExperimentSpec) -> str:
    """Queue a run and return at once; a worker process trains it."""
    run_id = submit_run(workspace, spec)
    dispatch(workspace)
    ensure_supervisor(workspace)
    return run_id


def _existing(workspace: Workspace, run_id: str) -> Run:
    run = workspace.store.get_run(run_id)
    if run is None:
        raise UserError(f"There is no run '{run_id}' in {workspace.root}; see lstm-core runs.")
    return run


def cancel(workspace: Workspace, run_id: str) -> str:
    """Cancel a queued run at once, or ask a running one to stop; returns the new status."""
    store = workspace.store
    run = _existing(workspace, run_id)
    if run.status == RunStatus.QUEUED:
        try:
            store.cancel_run(run_id)
            return RunStatus.CANCELLED
        except InvalidTransition:
            pass  # a worker claimed it just now: ask it to stop instead
    elif run.status != RunStatus.RUNNING:
        raise UserError(
            f"Run '{run_id}' has already ended ({run.status}); there is nothing to cancel."
        )
    store.request_cancel(run_id)
    return CANCELLING


def resume(workspace: Workspace, run_id: str) -> None:
    """Queue an interrupted, cancelled or failed run again; its finished fits are kept."""
    run = _existing(workspace, run_id)
    if not run.status.resumable:
        state = f"is {run.status}" if run.status.active else "has completed"
        raise UserError(
            f"Run '{run_id}' {state}; only an interrupted, cancelled or failed run can be resumed."
        )
    check_runnable(workspace, run.spec)
    try:
        workspace.store.requeue_run(run_id)
    except InvalidTransition:
        raise UserError(f"Run '{run_id}' changed state just now; look again.") from None
    dispatch(workspace)
    ensure_supervisor(workspace)


def delete(workspace: Workspace, run_id: str) -> None:
    """Remove a run that is not queued or running: its rows, then its folder."""
    run = _existing(workspace, run_id)
    if run.status.active:
        raise UserError(f"Run '{run_id}' is {run.status}; cancel it before deleting it.")
    # A child that has not finished reads this run's model when it (re)starts.
    children = [
        r.id
        for r in workspace.store.list_runs(limit=1_000_000)
        if r.spec.parent == run_id and (r.status.active or r.status.resumable)
    ]
    if children:
        raise UserError(
            f"Run '{run_id}' is the starting point of run {children[0]}, which has not "
            "finished; let it finish, or delete it first."
        )
    try:
        workspace.store.delete_run(run_id)
    except InvalidTransition:
        raise UserError(f"Run '{run_id}' started again just now; cancel it first.") from None
    shutil.rmtree(workspace.run_dir(run_id), ignore_errors=True)
