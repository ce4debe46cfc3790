"""Which status may follow which, and which process may write into a run.

Decided here, once, for every backend: the store reads a run's `RunState` inside its write
transaction, asks these rules, and only then has the backend write the rows. A process
that lost its run (`RunTakenAway`) can so never write into it, whatever holds the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_core.domain.entities import RunStatus, TrialStatus
from lstm_core.domain.processes import WorkerIdentity

ALLOWED_FROM = {
    RunStatus.RUNNING: (RunStatus.QUEUED,),
    RunStatus.COMPLETED: (RunStatus.RUNNING,),
    RunStatus.FAILED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.CANCELLED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.INTERRUPTED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.QUEUED: (RunStatus.CANCELLED, RunStatus.INTERRUPTED, RunStatus.FAILED),
}
# When a run ends, the fits it still had running end with it (the fit that failed a run
# has already recorded its own failure).
TRIALS_ENDING_AS = {
    RunStatus.FAILED: TrialStatus.INTERRUPTED,
    RunStatus.CANCELLED: TrialStatus.CANCELLED,
    RunStatus.INTERRUPTED: TrialStatus.INTERRUPTED,
}


class InvalidTransition(RuntimeError):
    """A status change that the run's lifecycle does not allow (a bug, or a lost race)."""


class RunTakenAway(InvalidTransition):
    """The run is no longer running under the process that tried to write into it."""


@dataclass(frozen=True)
class RunState:
    """What the rules read of a run: its status and the process recorded as holding it."""

    status: RunStatus
    pid: int | None = None
    worker_host: str | None = None
    worker_start: int | None = None

    def held_by(self, owner: WorkerIdentity) -> bool:
        """Running under that very process (pid, machine and start time all match)."""
        return self.status == RunStatus.RUNNING and (
            self.pid,
            self.worker_host,
            self.worker_start,
        ) == (owner.pid, owner.host, owner.started)


def check_move(
    run_id: str, state: RunState | None, status: RunStatus, owner: WorkerIdentity | None
) -> None:
    """Raise unless the run may go to `status`; with an `owner`, only as that process's
    write (`RunTakenAway` when the run is no longer its own)."""
    allowed = state is not None and state.status in ALLOWED_FROM[status]
    if allowed and (owner is None or state.held_by(owner)):
        return
    if owner is not None and state is not None and state.status == RunStatus.RUNNING:
        raise RunTakenAway(f"run {run_id} is no longer this process's")
    now = state.status if state is not None else "missing"
    error = RunTakenAway if owner is not None else InvalidTransition
    raise error(f"run {run_id} cannot go from {now} to {status}")


def check_owned(what: str, state: RunState | None, owner: WorkerIdentity | None) -> None:
    """A write into a run's fits or epochs: refused unless `owner` holds the run (no
    owner: a writer that is not a worker, such as a test or the doctor)."""
    if owner is not None and (state is None or not state.held_by(owner)):
        raise RunTakenAway(f"{what} is no longer this process's")


def may_attach(state: RunState | None, worker: WorkerIdentity) -> bool:
    """A claimed run takes its worker unless another process holds it already."""
    if state is None or state.status != RunStatus.RUNNING:
        return False
    return state.pid is None or state.held_by(worker)


def check_deletable(run_id: str, state: RunState | None) -> None:
    """A run is deleted only once it has ended (or never existed)."""
    if state is not None and state.status.active:
        raise InvalidTransition(f"run {run_id} is {state.status}")


def restored_status(status: RunStatus) -> RunStatus:
    """A run put back from its folder's record has no worker now: one that was going
    comes back interrupted, ready to be resumed."""
    return RunStatus.INTERRUPTED if status.active else status
