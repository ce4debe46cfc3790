"""Background runs, as the dashboard and the CLI ask for them: submit, cancel, resume,
delete, and a reader's look that keeps things moving.

The UI and the CLI never train in their own process. `submit` stores a queued run and
dispatches it (`lstm_core.jobs.dispatch`: worker processes, while fewer than
`max_running()` runs are running). A supervisor process (`lstm_core.jobs.supervisor`, one
per workspace, started with the first submit or reader) notices workers that died and keeps
the queue moving while nobody is looking. A worker stays warm after its run, and a reader
starts one ahead of the first run (`lstm_core.jobs.standby`): it takes the next queued run
itself.
"""

from __future__ import annotations

import shutil

from lstm_core.domain.entities import Run, RunStatus
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import ExperimentSpec, ResolvedSpec
from lstm_core.execution.training import check_runnable, submit_run
from lstm_core.jobs import standby, supervisor
from lstm_core.jobs.dispatch import dispatch
from lstm_core.store.lifecycle import InvalidTransition
from lstm_core.store.store_errors import WorkspaceBusy
from lstm_core.store.workspace import Workspace

CANCELLING = "cancelling"


def refresh(workspace: Workspace) -> None:
    """What a reader calls before showing runs: mark dead workers, keep the queue moving,
    make sure a supervisor watches while anything is queued or running, and otherwise
    have a warm worker wait for the next run. While another process holds the write lock
    the dashboard does not wait for it: the queue is left to the supervisor (and a writer
    stopped while it holds the lock is named by `Engine.stopped_writer`)."""
    if workspace.store_place.writer() is not None:
        return
    try:
        dispatch(workspace)
    except WorkspaceBusy:
        return
    if any(r.status.active for r in workspace.store.list_runs(limit=50)):
        supervisor.ensure(workspace)
    else:
        standby.ensure(workspace)


def submit(workspace: Workspace, spec: ExperimentSpec | ResolvedSpec) -> str:
    """Queue a run and return at once; a worker process trains it."""
    run_id = submit_run(workspace, spec)
    dispatch(workspace)
    supervisor.ensure(workspace)
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
    supervisor.ensure(workspace)


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
