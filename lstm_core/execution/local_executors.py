"""This machine's executors: fits in the run's own process, or in spawned fit processes.

`FitProcesses` takes its processes from a `FitPool` once per run and sends them the
dataset once, at start; a task then carries only row indices. They stop with the run
(closed, cancelled), or go back to a pool that a warm worker keeps (`lstm_core.jobs.standby`);
a watchdog in each ends it when the process that started it is gone. It keeps the folds of
one candidate on the process that already fitted that candidate's model (kept models,
`lstm_core.models.model_pool`, make the second fold start without tracing), and prefers, for an
idle process, a candidate that no other process is working on.
"""

from __future__ import annotations

import os
import pickle
import time
from collections import deque
from multiprocessing.connection import wait as wait_for_connections

from lstm_core.domain.entities import TrialStatus
from lstm_core.domain.errors import RunCancelled
from lstm_core.domain.spec import usable_cores
from lstm_core.execution.executor import Executor, ExecutorRequest, TrialRecorder, as_pruned
from lstm_core.execution.fit_pool import FitPool, FitProcess
from lstm_core.execution.fitting import fit_trial
from lstm_core.execution.trial import TrainingData, TrialOutcome, TrialTask

LOCAL_WORKER = "local"  # the worker a trial row names for a fit on this machine
POLL_S = 0.25
STOP_GRACE_S = 0.5  # a fit that has not stopped this long after the request is killed
CLOSE_S = 5.0  # after killing, the longest wait for what the fits said last


class _RecorderChannel:
    """A fit in this process reports straight to the recorder."""

    def __init__(self, recorder: TrialRecorder, candidate: int):
        self.recorder = recorder
        self.candidate = candidate

    def send(self, event) -> None:
        self.recorder.record(event)

    def stop_requested(self) -> bool:
        return self.recorder.stop_requested() or self.recorder.pruned(self.candidate)


class InProcess(Executor):
    """One fit at a time in this process: one TensorFlow import, every core for each fit."""

    def __init__(self, data: TrainingData, recorder: TrialRecorder):
        super().__init__(data, recorder)
        self._pending: deque[TrialTask] = deque()

    def submit(self, tasks: list[TrialTask]) -> None:
        self._pending.extend(tasks)

    def _drop_pruned(self) -> None:
        """A pruned candidate's waiting folds never start."""
        self._pending = deque(t for t in self._pending if not self.recorder.pruned(t.candidate))

    def in_flight(self) -> int:
        self._drop_pruned()
        return len(self._pending)

    def wait(self) -> TrialOutcome:
        self._drop_pruned()
        task = self._pending.popleft()
        context = self.recorder.open_trial(task, os.getpid(), LOCAL_WORKER)
        channel = _RecorderChannel(self.recorder, task.candidate)
        outcome = fit_trial(task, context, self.data, channel)
        return as_pruned(outcome, self.recorder, self.recorder.stop_requested())

    def close(self) -> None:
        self._pending.clear()


class FitProcesses(Executor):
    """`n` spawned fit processes (never forked: TensorFlow is not fork-safe).

    Each has its own task queue and its own result pipe, so one that dies mid-message
    cannot block the others. Once a fit fails or a stop is asked for, nothing new starts;
    a stop that a fit does not obey within `STOP_GRACE_S` (it may still be importing
    TensorFlow) kills its process.
    """

    def __init__(
        self,
        data: TrainingData,
        recorder: TrialRecorder,
        n: int,
        threads: int,
        pool: FitPool | None = None,
    ):
        super().__init__(data, recorder)
        self._own_pool = pool is None
        self._pool = FitPool() if pool is None else pool
        self._stop = self._pool.stop
        self._stop_since: float | None = None
        self._halted = False
        self._pending: list[TrialTask] = []
        self._outcomes: deque[TrialOutcome] = deque()
        self._watched = 0.0
        self._workers = self._pool.take(n, threads)
        for worker in self._workers:  # the dataset travels once per process and run
            worker.tasks.put(data)

    @property
    def slots(self) -> int:
        return len(self._workers)

    @property
    def where(self) -> str:
        return "fit processes: pids " + " ".join(str(w.process.pid) for w in self._workers)

    def submit(self, tasks: list[TrialTask]) -> None:
        self._pending.extend(tasks)
        self._dispatch()

    def in_flight(self) -> int:
        self._drop_pruned()
        busy = sum(w.busy is not None for w in self._workers)
        return len(self._pending) + busy + len(self._outcomes)

    def wait(self) -> TrialOutcome:
        """The next fit to finish; `RunCancelled` once stopped with nothing left to return."""
        while not self._outcomes:
            if time.monotonic() - self._watched >= POLL_S:
                self._watch()
            if self._halted and not any(w.busy is not None for w in self._workers):
                self._pending.clear()  # stopped before these started: they never will
                raise RunCancelled("the run stopped its fits")
            self._receive(timeout=POLL_S)
        return self._outcomes.popleft()

    def _receive(self, timeout: float) -> None:
        """Hand over what the processes sent; a closed pipe means its process died."""
        live = [w for w in self._workers if not w.results.closed]
        for ready in wait_for_connections([w.results for w in live], timeout):
            worker = next(w for w in live if w.results is ready)
            try:
                message = worker.results.recv()
            except (EOFError, OSError, pickle.UnpicklingError):  # it died, maybe mid-message
                worker.results.close()
                self._lost(worker)
                continue
            if isinstance(message, TrialOutcome):
                self._finished(worker, message)
            else:
                self.recorder.record(message)
                self._drop_pruned()  # an epoch may have pruned its candidate

    def _finished(self, worker: FitProcess, outcome: TrialOutcome) -> None:
        worker.busy = None
        outcome = as_pruned(outcome, self.recorder, self._stop.is_set())
        worker.prune.clear()  # before its next task
        if outcome.status not in (TrialStatus.COMPLETED, TrialStatus.PRUNED):
            self._halted = True  # the run ends: start nothing more
        self._outcomes.append(outcome)
        self._dispatch()

    def _lost(self, worker: FitProcess) -> None:
        if worker.busy is None:
            return
        worker.process.join(1.0)
        code = worker.process.exitcode
        status = TrialStatus.CANCELLED if self._stop.is_set() else TrialStatus.FAILED
        self._finished(
            worker,
            TrialOutcome(
                worker.busy,
                status,
                error=f"The fit process (pid {worker.process.pid}) died (exit code {code}).",
            ),
        )

    def _drop_pruned(self) -> None:
        """Stop the fits of pruned candidates; their waiting folds never start."""
        self._pending = [t for t in self._pending if not self.recorder.pruned(t.candidate)]
        for worker in self._workers:
            if worker.busy is not None and self.recorder.pruned(worker.busy.candidate):
                worker.prune.set()

    def _watch(self) -> None:
        """Pass on a stop request or a pruning; kill fits that do not obey a stop; notice
        dead processes."""
        self._watched = time.monotonic()
        self._drop_pruned()
        if self._stop_since is None and self.recorder.stop_requested():
            self._stop.set()
            self._stop_since = time.monotonic()
            self._halted = True
        if self._stop_since is not None and time.monotonic() - self._stop_since > STOP_GRACE_S:
            for worker in self._workers:
                if worker.busy is not None and worker.process.is_alive():
                    worker.process.kill()
        for worker in self._workers:
            if worker.busy is not None and not worker.process.is_alive() and worker.results.closed:
                self._lost(worker)
        if (
            self._pending
            and not self._halted
            and not any(w.process.is_alive() for w in self._workers)
        ):
            raise RuntimeError("Every fit process of this run has stopped; see the worker log.")

    def _dispatch(self) -> None:
        if self._halted:
            return
        self._drop_pruned()
        idle = [w for w in self._workers if w.busy is None and w.process.is_alive()]
        # Processes that keep the model of a waiting fit choose first.
        idle.sort(key=lambda w: not any(t.model_key in w.keys for t in self._pending))
        for worker in idle:
            if not self._pending:
                return
            elsewhere = {
                other.keys[-1] for other in self._workers if other is not worker and other.keys
            }
            task = pick_next(self._pending, set(worker.keys), elsewhere)
            self._pending.remove(task)
            worker.busy = self.recorder.open_trial(task, worker.process.pid, LOCAL_WORKER)
            if task.model_key in worker.keys:
                worker.keys.remove(task.model_key)
            worker.keys.append(task.model_key)
            worker.tasks.put((task, worker.busy))

    def close(self) -> None:
        """Stop every process; what they finished meanwhile is still recorded."""
        self._halted = True
        self._stop.set()
        grace = time.monotonic() + STOP_GRACE_S
        deadline = grace + CLOSE_S
        while any(w.busy is not None for w in self._workers) and time.monotonic() < deadline:
            self._receive(timeout=POLL_S)
            if time.monotonic() > grace:  # not stopping (importing TensorFlow, say): killed
                for worker in self._workers:
                    if worker.busy is not None and worker.process.is_alive():
                        worker.process.kill()
                    elif worker.busy is not None:
                        self._lost(worker)
        for outcome in self._outcomes:
            self.recorder.finish(outcome)
        self._outcomes.clear()
        # Idle now: nothing to flush. A pool of its own goes with the run; a shared pool
        # keeps the idle processes warm for the next run.
        self._pool.give_back(self._workers)
        if self._own_pool:
            self._pool.close()


def pick_next(pending: list[TrialTask], kept_here: set, elsewhere: set) -> TrialTask:
    """The fit an idle process takes: one whose model it keeps; else one whose model no other
    process is on (another candidate, so its folds stay together); else the first."""
    for task in pending:
        if task.model_key in kept_here:
            return task
    for task in pending:
        if task.model_key not in elsewhere:
            return task
    return pending[0]


def threads_per_fit(n_jobs: int) -> int:
    """Parallel fit processes share the cores this process may use."""
    return max(1, usable_cores() // n_jobs)


def local_executor(request: ExecutorRequest) -> Executor:
    """One fit at a time in this process (`here`), else `n_jobs` fit processes, taken from
    the request's pool when the caller keeps one warm."""
    if request.here:
        return InProcess(request.data, request.recorder)
    n = request.n_jobs
    return FitProcesses(request.data, request.recorder, n, threads_per_fit(n), request.pool)
