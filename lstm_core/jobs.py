"""Background runs: a queue in the store, worker processes, and noticing workers that died.

The UI and the CLI never train in their own process. `submit` stores a queued run and
`dispatch` starts workers (fresh `python -m lstm_core.worker` processes, so nothing is
forked after TensorFlow is loaded) while fewer than `max_running()` runs are running. A
worker that finishes dispatches the next queued run; anyone who looks (`refresh`) marks
runs whose worker vanished as interrupted and fills the freed slot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lstm_core.entities import RunStatus
from lstm_core.errors import UserError
from lstm_core.spec import ExperimentSpec
from lstm_core.store import InvalidTransition
from lstm_core.training import check_runnable, submit_run
from lstm_core.workspace import HOME_VARIABLE, Workspace

MAX_RUNNING_VARIABLE = "LSTM_CORE_MAX_RUNS"
STALE_AFTER_S = 60.0
CANCELLING = "cancelling"


def max_running() -> int:
    """Runs trained at once; one by default, since one run already uses both cores here."""
    try:
        return max(1, int(os.environ.get(MAX_RUNNING_VARIABLE, "1")))
    except ValueError:
        return 1


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (killed, not yet reaped) counts as gone."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def reap(workspace: Workspace) -> list[str]:
    """Mark `running` runs whose worker is gone, or silent for a minute, as interrupted."""
    store, now, reaped = workspace.store, time.time(), []
    for run in store.runs_with_status(RunStatus.RUNNING):
        if run.pid is not None and not process_alive(run.pid):
            reason = f"The worker process (pid {run.pid}) stopped before the run finished."
        elif now - (run.heartbeat_at or 0) > STALE_AFTER_S:
            reason = f"The worker sent no heartbeat for {now - (run.heartbeat_at or 0):.0f} s."
        else:
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
    package_root = str(Path(__file__).resolve().parents[1])
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        HOME_VARIABLE: str(workspace.root),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": python_path,
    }
    with open(workspace.worker_log(run_id), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lstm_core.worker", run_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return process.pid


def dispatch(workspace: Workspace) -> list[str]:
    """Start workers for queued runs while there is room; returns the runs started."""
    reap(workspace)
    started = []
    while (run := workspace.store.claim_next(max_running())) is not None:
        workspace.store.attach_worker(run.id, spawn_worker(workspace, run.id))
        started.append(run.id)
    return started


def refresh(workspace: Workspace) -> None:
    """What a reader calls before showing runs: mark dead workers, keep the queue moving."""
    dispatch(workspace)


def submit(workspace: Workspace, spec: ExperimentSpec) -> str:
    """Queue a run and return at once; a worker process trains it."""
    run_id = submit_run(workspace, spec)
    dispatch(workspace)
    return run_id


def _existing(workspace: Workspace, run_id: str):
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


def delete(workspace: Workspace, run_id: str) -> None:
    """Remove a run that is not queued or running: its rows, then its folder."""
    run = _existing(workspace, run_id)
    if run.status.active:
        raise UserError(f"Run '{run_id}' is {run.status}; cancel it before deleting it.")
    try:
        workspace.store.delete_run(run_id)
    except InvalidTransition:
        raise UserError(f"Run '{run_id}' started again just now; cancel it first.") from None
    shutil.rmtree(workspace.run_dir(run_id), ignore_errors=True)
