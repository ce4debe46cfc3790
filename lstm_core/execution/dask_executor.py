"""A run's fits on a Dask cluster (`tcp://...` addresses): an executor over `distributed.Client`.

Dask schedules; this module only hands it fits and listens. The run's dataset is
scattered once to every worker (`ShippedData`; a worker that joins later copies it from
a peer), and a fit is a task that names rows of it. Nothing on a worker touches the
workspace: a fit's epochs and progress come back as events on the run's own topic, its
outcome as the task's result, and this process writes them to the store, so live curves
work as they do locally. The trial row of a fit is opened when a worker starts it (so it
carries the worker's address); a fit whose worker dies is closed `interrupted`, and when
Dask runs it again on another worker that attempt gets a row of its own.

Faults: the scattered data lives only on the workers, so when the last of them dies Dask
drops every fit; they wait here, and go out again with the data once a worker joins, for
up to `$LSTM_CORE_DASK_WORKERS_WAIT_S` (30 s), after which the fits left fail with a
sentence. A scheduler that goes away takes every fit and the run's state on the cluster
with it: the run fails at once with a sentence (resume it once the scheduler is back).

Stopping is cooperative (Dask cannot interrupt a running task): a Dask `Variable` holds
the run's stop flag and its pruned candidates, and each fit reads it a few times a second
(`lstm_core.execution.dask_worker`). Fits that have not started are cancelled outright.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import NoReturn

from lstm_core.domain.cluster_view import ClusterInfo
from lstm_core.domain.entities import TrialStatus
from lstm_core.domain.errors import RunCancelled, UserError
from lstm_core.execution.dask_footprint import DaskFootprint
from lstm_core.execution.dask_scheduler import (
    INSTALL_HINT,
    SCHEMES,
    check_scheduler,
    connect,
    describe,
    refuse_unusable,
    workers_wait_s,
)
from lstm_core.execution.dask_worker import FitStarted, decode_event
from lstm_core.execution.executor import (
    Executor,
    ExecutorKind,
    ExecutorRequest,
    TrialRecorder,
    as_pruned,
)
from lstm_core.execution.fit_attempts import FitAttempts
from lstm_core.execution.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialOutcome,
    TrialTask,
)
from lstm_core.execution.worker_placement import WorkerHomes

POLL_S = 0.25
WATCH_S = 1.0
STOP_GRACE_S = 5.0  # after a stop, fits still running this long are let go (and cancelled)
CLOSE_S = 10.0


class DaskExecutor(Executor):
    """Fits as Dask tasks on the scheduler at `address`."""

    def __init__(self, data: TrainingData, recorder: TrialRecorder, address: str):
        super().__init__(data, recorder)
        self.address = address
        self.client = connect(address)
        try:
            self._start(data)
        except BaseException:
            self.client.close()
            raise

    def _start(self, data: TrainingData) -> None:
        self._workers_wait = workers_wait_s()
        with contextlib.suppress(TimeoutError):  # no worker came: refuse_unusable says so
            self.client.wait_for_workers(1, timeout=self._workers_wait)
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        refuse_unusable(self.address, workers)
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._on_cluster = DaskFootprint(
            self.client, data, workers, lambda event: self._events.put(("event", event))
        )
        self._info = describe(self.client, self.address, workers)
        self._run_id = ""
        self._futures: dict = {}  # Future -> TrialTask, until its outcome is taken
        self._parked: list[TrialTask] = []  # dropped with the data: sent again when workers come
        self._attempts = FitAttempts(self.recorder, "Dask")
        self._outcomes: deque[TrialOutcome] = deque()
        self._halted = False
        self._stop_since: float | None = None
        self._watched = 0.0
        self._workerless_since: float | None = None
        self._workers = sorted(workers)
        self._homes = WorkerHomes()
        self._sent_to: dict = {}  # Future -> the worker it prefers

    @property
    def cluster_info(self) -> ClusterInfo:
        """The scheduler and its workers as this run found them."""
        return self._info

    @property
    def slots(self) -> int:
        """Fits at once: one per worker process (see `lstm_core.execution.dask_worker`)."""
        return max(1, self._info.workers)

    @property
    def where(self) -> str:
        return f"the Dask cluster at {self.address} ({self._info.workers} worker(s))"

    def submit(self, tasks: list[TrialTask]) -> None:
        if self._halted:
            return
        with self._on_the_scheduler():
            self._submit(tasks)

    def _submit(self, tasks: list[TrialTask]) -> None:
        busy = [self._sent_to[f] for f in self._futures if f in self._sent_to]
        homes = self._homes.place(tasks, self._workers, busy)
        for task, home in zip(tasks, homes, strict=True):
            self._run_id = task.run_id
            future = self._on_cluster.submit(task, home)
            self._futures[future] = task
            self._sent_to[future] = home
            future.add_done_callback(lambda done: self._events.put(("done", done)))

    def in_flight(self) -> int:
        with self._on_the_scheduler():
            self._drop_pruned()
        return len(self._futures) + len(self._parked) + len(self._outcomes)

    def wait(self) -> TrialOutcome:
        """The next fit to finish; `RunCancelled` once stopped with nothing left to return;
        a `UserError` once the scheduler is gone."""
        while not self._outcomes:
            if not (self._futures or self._parked):
                raise RunCancelled("the run stopped its fits")
            with self._on_the_scheduler():
                self._watch()
                self._receive(POLL_S)
        return self._outcomes.popleft()

    def _scheduler_gone(self) -> bool:
        """Lost the scheduler (the client reconnects for a while, then closes)."""
        return self.client.status != "running"

    @contextlib.contextmanager
    def _on_the_scheduler(self) -> Iterator[None]:
        """Calls that reach the scheduler: one that finds it gone ends the run in a sentence,
        never with Dask's connection error."""
        if self._scheduler_gone():
            self._lose_scheduler()
        try:
            yield
        except OSError:  # Dask's closed comms and connect timeouts are OSErrors
            if not self._scheduler_gone():
                raise
            self._lose_scheduler()

    def _lose_scheduler(self) -> NoReturn:
        """The fits running are lost with the scheduler (their workers close too)."""
        self._attempts.close_running(TrialStatus.INTERRUPTED)
        self._futures.clear()
        self._parked.clear()
        self._halted = True
        raise UserError(
            f"The Dask scheduler at {self.address} went away and took the run's fits with it; "
            f"restart it and its workers, then `lstm-core resume {self._run_id}`."
        )

    def _receive(self, timeout: float) -> None:
        try:
            kind, item = self._events.get(timeout=timeout)
        except queue.Empty:
            return
        if kind == "event":
            self._event(item)
        else:
            self._done(item)

    def _event(self, message: dict) -> None:
        item = decode_event(message)
        if isinstance(item, FitStarted):
            self._started(item)
            return
        attempt = self._attempts.live(item.token)
        if attempt is None:
            return  # from a try that was given up (its worker was lost)
        trial_id = attempt.context.trial_id
        if isinstance(item.event, EpochEnded):
            self.recorder.record(EpochEnded(replace(item.event.epoch, trial_id=trial_id)))
            self._drop_pruned()  # the epoch may have pruned its candidate
        else:
            self.recorder.record(FitProgress(trial_id, item.event.fraction))

    def _started(self, started: FitStarted) -> None:
        task = next((t for t in self._futures.values() if t.key == started.key), None)
        if task is None:
            return  # cancelled or finished meanwhile
        self._attempts.start(started.token, task, started.pid, started.worker)

    def _done(self, future) -> None:
        if future.status == "cancelled" and self._scheduler_gone():
            return  # the scheduler took it: `_on_the_scheduler` says so
        task = self._futures.pop(future, None)
        if task is None:
            return  # cancelled by this executor: nothing to report
        token = self._attempts.end(task)
        if future.status == "cancelled":
            # Dropped by the scheduler, which does that when the last worker holding the
            # run's data dies: it goes out again once a worker is there.
            if token is not None:
                self._attempts.interrupt(token, "it runs again once the cluster has a worker")
            self._parked.append(task)
            return
        if future.status == "finished":
            remote = future.result()
            row = self._attempts.row(remote.token, task, remote.pid, remote.worker)
            outcome = replace(remote.outcome, context=row)
        else:
            outcome = TrialOutcome(
                self._attempts.row_without_result(task, token),
                TrialStatus.FAILED,
                error=_lost(future, task),
            )
        outcome = as_pruned(outcome, self.recorder, self._on_cluster.flags.stop)
        if outcome.status not in (TrialStatus.COMPLETED, TrialStatus.PRUNED):
            self._halt()
        self._outcomes.append(outcome)

    def _drop_pruned(self) -> None:
        """Waiting fits of pruned candidates are cancelled; running ones are told."""
        pruned = {t.candidate for t in self._futures.values() if self.recorder.pruned(t.candidate)}
        if not pruned:
            return
        waiting = [
            f
            for f, t in self._futures.items()
            if t.candidate in pruned and not self._attempts.running(t)
        ]
        self._cancel(waiting)
        flags = self._on_cluster.flags
        if not pruned <= flags.pruned:
            self._on_cluster.send(replace(flags, pruned=flags.pruned | pruned))

    def _cancel(self, futures: list) -> None:
        for future in futures:
            self._futures.pop(future, None)
        if futures:
            self.client.cancel(futures)

    def _halt(self) -> None:
        """Start nothing more: fits that have not started are cancelled."""
        self._halted = True
        self._parked.clear()
        self._cancel([f for f, t in self._futures.items() if not self._attempts.running(t)])

    def _watch(self) -> None:
        """Pass on a stop (at once); let go of fits that ignore it; close the fits whose
        worker is gone (once a second: it asks the scheduler)."""
        if not self._on_cluster.flags.stop and self.recorder.stop_requested():
            self._stop()
        if time.monotonic() - self._watched < WATCH_S:
            return
        self._watched = time.monotonic()
        self._drop_pruned()
        if self._stop_since is not None and time.monotonic() - self._stop_since > STOP_GRACE_S:
            self._let_go()
        if not (self._futures or self._parked):
            return
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        self._attempts.interrupt_lost(workers, "Dask runs it again on another worker")
        if workers:
            self._workers = sorted(workers)
            self._workerless_since = None
            if self._parked:
                self._send_again(workers)
            return
        self._workerless_since = self._workerless_since or time.monotonic()
        if time.monotonic() - self._workerless_since > self._workers_wait:
            self._give_up(
                f"The Dask cluster at {self.address} has had no workers for "
                f"{self._workers_wait:g} s; start `dask worker {self.address} --nthreads 1`, "
                f"then `lstm-core resume {self._run_id}`."
            )

    def _send_again(self, workers: dict) -> None:
        """The fits Dask dropped go to `workers`, with the data again if it went too."""
        self._on_cluster.ship_again(workers)
        parked, self._parked = self._parked, []
        self._submit(parked)

    def _give_up(self, why: str) -> None:
        """Every fit left fails with `why` (the cluster cannot run them)."""
        for task in [*self._futures.values(), *self._parked]:
            context = self._attempts.row_without_result(task, self._attempts.end(task))
            self._outcomes.append(TrialOutcome(context, TrialStatus.FAILED, error=why))
        self._parked.clear()
        self._cancel(list(self._futures))
        self._halted = True

    def _stop(self) -> None:
        self._stop_since = time.monotonic()
        self._on_cluster.send(replace(self._on_cluster.flags, stop=True))
        self._halt()

    def _let_go(self) -> None:
        """Running fits that did not stop in time: cancelled, their rows closed."""
        running = [f for f, t in self._futures.items() if self._attempts.running(t)]
        for future in running:
            task = self._futures[future]
            context = self._attempts.row_without_result(task, self._attempts.end(task))
            self._outcomes.append(TrialOutcome(context, TrialStatus.CANCELLED))
        self._cancel(running)

    def close(self) -> None:
        """Stop every fit; what finished meanwhile is still recorded."""
        try:
            try:
                if not self._scheduler_gone():
                    self._stop_on_the_cluster()
            except OSError:  # the scheduler went away meanwhile
                if not self._scheduler_gone():
                    raise
            self._attempts.close_running(TrialStatus.INTERRUPTED)  # what a lost scheduler took
            for outcome in self._outcomes:
                self.recorder.finish(outcome)
            self._outcomes.clear()
        finally:
            self.client.close()

    def _stop_on_the_cluster(self) -> None:
        """Stop the fits and take away what the run left on the cluster."""
        # Always said, and before the flags are deleted: a fit that started unseen
        # (its worker still loading TensorFlow) stops at its first look.
        self._stop()
        if self._futures:
            deadline = time.monotonic() + CLOSE_S
            while self._futures and time.monotonic() < deadline:
                self._receive(POLL_S)
            self._let_go()
        self._on_cluster.take_away()


def _lost(future, task: TrialTask) -> str:
    """The sentence for a fit that erred on Dask's side."""
    where = "the refit" if task.fold is None else f"candidate {task.candidate}, fold {task.fold}"
    error = future.exception()
    if type(error).__name__ == "KilledWorker":
        return (
            f"The fit ({where}) was lost with its Dask worker on every try; see the workers' "
            "logs (out of memory?)."
        )
    return (
        f"A Dask worker could not run the fit ({where}): {type(error).__name__}: {error} "
        f"(is this package installed on every worker? {INSTALL_HINT})"
    )


def dask_executor(request: ExecutorRequest) -> DaskExecutor:
    return DaskExecutor(request.data, request.recorder, request.address)


DASK = ExecutorKind("Dask", SCHEMES, dask_executor, check_scheduler)
