"""The tries of a run's fits on a cluster's workers, each with a trial row of its own.

A cluster runs a fit again on another worker when the first one dies. Each try gets its
row when a worker starts it (so the row names that worker); only the latest try of a fit
is live, and what an earlier one still reports is dropped. A try given up (its worker was
lost, the scheduler went away) ends `interrupted` with a sentence that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_core.domain.entities import TrialStatus
from lstm_core.execution.executor import TrialRecorder
from lstm_core.execution.trial import TrialContext, TrialOutcome, TrialTask


@dataclass(frozen=True)
class Attempt:
    """One try of a fit on one worker."""

    task: TrialTask
    context: TrialContext
    worker: str


class FitAttempts:
    """Every try by the token its worker gave it, and the live try of each running fit.

    `cluster` names the kind of cluster in the sentences (Dask).
    """

    def __init__(self, recorder: TrialRecorder, cluster: str):
        self.recorder = recorder
        self.cluster = cluster
        self._tries: dict[str, Attempt] = {}
        self._live: dict[tuple, str] = {}  # a task's key -> the token of its live try

    def start(self, token: str, task: TrialTask, pid: int, worker: str) -> None:
        """A worker took the fit: its row opens, and an earlier try of it is given up."""
        earlier = self._live.pop(task.key, None)
        if earlier is not None:
            self.interrupt(earlier, f"it ran again on {worker}")
        context = self.recorder.open_trial(task, pid, worker)
        self._tries[token] = Attempt(task, context, worker)
        self._live[task.key] = token

    def live(self, token: str) -> Attempt | None:
        """The try of `token` while it is its fit's live one; None once given up."""
        attempt = self._tries.get(token)
        if attempt is None or self._live.get(attempt.task.key) != token:
            return None
        return attempt

    def running(self, task: TrialTask) -> bool:
        return task.key in self._live

    def end(self, task: TrialTask) -> str | None:
        """The token of the fit's live try, which is live no more; None if none was seen."""
        return self._live.pop(task.key, None)

    def row(self, token: str, task: TrialTask, pid: int, worker: str) -> TrialContext:
        """The row of a try that returned a result: opened when it started, else now (its
        start was not seen)."""
        attempt = self._tries.get(token)
        if attempt is not None:
            return attempt.context
        return self.recorder.open_trial(task, pid, worker)

    def row_without_result(self, task: TrialTask, token: str | None) -> TrialContext:
        """The row for a fit that ends without a result: its live try's, else a new one on
        the worker that tried it last (if any did)."""
        if token is not None:
            return self._tries[token].context
        tried = [a.worker for a in self._tries.values() if a.task.key == task.key]
        return self.recorder.open_trial(task, None, tried[-1] if tried else "")

    def interrupt(self, token: str, why: str) -> None:
        """The try of `token` ends `interrupted`: its worker was lost, and `why` says what
        becomes of the fit."""
        attempt = self._tries[token]
        self.recorder.finish(
            TrialOutcome(
                attempt.context,
                TrialStatus.INTERRUPTED,
                error=f"Its {self.cluster} worker {attempt.worker} was lost; {why}.",
            )
        )

    def interrupt_lost(self, workers: dict, why: str) -> None:
        """Live tries on a worker not among `workers` (the cluster's now) are given up."""
        for key, token in list(self._live.items()):
            if self._tries[token].worker not in workers:
                del self._live[key]
                self.interrupt(token, why)

    def close_running(self, status: TrialStatus) -> None:
        """The rows of the live tries end `status`."""
        for token in self._live.values():
            self.recorder.finish(TrialOutcome(self._tries[token].context, status))
        self._live.clear()
