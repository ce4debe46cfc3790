"""What every executor is: a place that runs a run's fits and hands back their outcomes.

The run's trial loop submits `TrialTask`s and waits for `TrialOutcome`s; the executor asks
its `TrialRecorder` to open a trial row when a fit starts (so the fit gets its trial id up
front) and hands it every event a fit sends. Fits never touch the store themselves. Each
kind of executor (this machine's processes, a Dask cluster) lives in a module of its own;
`lstm_core.execution.executors` picks one by the scheme of the run's cluster setting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from lstm_core.domain.cluster_view import ClusterInfo
from lstm_core.domain.entities import TrialStatus
from lstm_core.execution.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialContext,
    TrialOutcome,
    TrialTask,
)

if TYPE_CHECKING:
    from lstm_core.execution.fit_pool import FitPool


class TrialRecorder(Protocol):
    """The run's side of its fits: opens their records and writes what they report."""

    def open_trial(self, task: TrialTask, pid: int | None, worker: str) -> TrialContext: ...

    def record(self, event: EpochEnded | FitProgress) -> None: ...

    def finish(self, outcome: TrialOutcome) -> None: ...

    def stop_requested(self) -> bool: ...

    def pruned(self, candidate: int) -> bool:
        """Has the run's searcher stopped this candidate (its fits end `pruned`)?"""
        ...


@dataclass(frozen=True, eq=False)
class ExecutorRequest:
    """What a run asks of the place its fits go; each kind of executor reads what it needs.

    `address`: the run's cluster setting ('' or `local`: this machine); `n_jobs`: fits at
    once on this machine; `here`: one fit at a time in the run's own process; `pool`: fit
    processes a warm worker keeps between runs.
    """

    data: TrainingData
    recorder: TrialRecorder
    n_jobs: int = 1
    here: bool = False
    pool: FitPool | None = None
    address: str = ""


class Executor(ABC):
    """Runs fits: `submit` hands over a batch; `wait` returns the next fit to finish (its
    outcome is for the caller to record). Outcomes still unreturned when it closes are
    recorded by `close`."""

    def __init__(self, data: TrainingData, recorder: TrialRecorder):
        self.data = data
        self.recorder = recorder

    @abstractmethod
    def submit(self, tasks: list[TrialTask]) -> None:
        """Fits to run; given as a batch, so that they can be placed well together."""

    @abstractmethod
    def wait(self) -> TrialOutcome: ...

    @abstractmethod
    def in_flight(self) -> int:
        """Fits submitted and not yet returned by `wait`."""

    @abstractmethod
    def close(self) -> None:
        """Stop whatever it started."""

    @property
    def slots(self) -> int:
        """How many fits it runs at once (a Bayesian search asks that many candidates);
        0: as many as the spec's parallel fits."""
        return 0

    @property
    def where(self) -> str:
        """Where its fits run, for the run's log."""
        return "the run's own process"

    @property
    def cluster_info(self) -> ClusterInfo | None:
        """The cluster its fits go to, as found at the start (None: this machine)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def as_pruned(outcome: TrialOutcome, recorder: TrialRecorder, stopping: bool) -> TrialOutcome:
    """A fit of a pruned candidate: cut short (not because the run stops), or finished
    anyway (pruned after its last epoch, or as it ended); it is never scored."""
    context = outcome.context
    if context.fold is None or not recorder.pruned(context.candidate):
        return outcome
    if outcome.status == TrialStatus.COMPLETED or (
        outcome.status == TrialStatus.CANCELLED and not stopping
    ):
        return replace(outcome, status=TrialStatus.PRUNED, score=None, accuracy=None)
    return outcome


@dataclass(frozen=True)
class ExecutorKind:
    """A kind of place for fits, named by the schemes of the addresses that reach it; one
    record per kind, listed in `lstm_core.execution.executors`."""

    name: str  # as sentences name it: "Dask"
    schemes: tuple[str, ...]  # "tcp" for tcp://HOST:PORT
    start: Callable[[ExecutorRequest], Executor]
    check: Callable[[str], ClusterInfo] | None = None  # reach the address, say what is there
