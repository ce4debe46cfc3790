"""A run's fits on a Dask cluster: an executor over `distributed.Client`.

Dask schedules; this module only hands it fits and listens. The run's dataset is
scattered once to every worker (`ShippedData`; a worker that joins later copies it from
a peer), and a fit is a task that names rows of it. Nothing on a worker touches the
workspace: a fit's epochs and progress come back as events on the run's own topic, its
outcome as the task's result, and this process writes them to the store, so live curves
work as they do locally. The trial row of a fit is opened when a worker starts it (so it
carries the worker's address); a fit whose worker dies is closed `interrupted`, and when
Dask runs it again on another worker that attempt gets a row of its own.

Stopping is cooperative (Dask cannot interrupt a running task): a Dask `Variable` holds
the run's stop flag and its pruned candidates, and each fit reads it a few times a second
(`lstm_core.cluster_worker`). Fits that have not started are cancelled outright.
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, replace

from lstm_core.entities import ClusterInfo, Epoch, TrialStatus
from lstm_core.errors import RunCancelled, UserError
from lstm_core.executors import Executor, TrialRecorder, as_pruned
from lstm_core.spec import scheduler_address
from lstm_core.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialContext,
    TrialOutcome,
    TrialTask,
)

CONNECT_S = 10.0
WORKERS_WAIT_S = 30.0  # a cluster with no worker yet: how long a run waits for one
POLL_S = 0.25
WATCH_S = 1.0
STOP_GRACE_S = 5.0  # after a stop, fits still running this long are let go (and cancelled)
CLOSE_S = 10.0
INSTALL_HINT = "pip install -e '.[cluster]'"

log = logging.getLogger(__name__)


def connect(address: str):
    """A client of the scheduler at `address`; a sentence if it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise UserError(f"Fits on a Dask cluster need Dask distributed: {INSTALL_HINT}.") from None
    try:
        return Client(address, timeout=CONNECT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UserError(
            f"Could not reach the Dask scheduler at {address} ({exc}); start it with "
            "`dask scheduler`, or clear the cluster setting to train on this machine."
        ) from None


def describe(client, address: str) -> ClusterInfo:
    workers = client.scheduler_info(n_workers=-1)["workers"]
    try:
        dashboard = client.dashboard_link
    except (KeyError, TypeError):  # a scheduler without its dashboard (no bokeh there)
        dashboard = None
    return ClusterInfo(
        scheduler=address,
        dashboard=dashboard,
        workers=len(workers),
        threads=sum(int(w.get("nthreads", 1)) for w in workers.values()),
    )


def check_cluster(address: str) -> ClusterInfo:
    """Connect, say what is there, disconnect (the dashboard's and the CLI's check)."""
    address = scheduler_address(address)
    client = connect(address)
    try:
        return describe(client, address)
    finally:
        client.close()


@dataclass
class _Attempt:
    """One try of a fit on one worker (Dask tries again elsewhere if the worker dies)."""

    task: TrialTask
    context: TrialContext
    worker: str


class ClusterExecutor(Executor):
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
        from distributed import Variable

        from lstm_core.backend import training_backend
        from lstm_core.cluster_worker import ShippedData

        try:
            self.client.wait_for_workers(1, timeout=WORKERS_WAIT_S)
        except TimeoutError:
            raise UserError(
                f"The Dask scheduler at {self.address} has no workers; start "
                f"`dask worker {self.address}` on each machine (with this package installed)."
            ) from None
        self.topic = f"lstm-core-{uuid.uuid4().hex}"
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.client.subscribe_topic(self.topic, lambda event: self._events.put(("event", event[1])))
        self._flags = Variable(f"{self.topic}-flags", client=self.client)
        self._stop_sent = False
        self._pruned_sent: set[int] = set()
        self._flags.set({"stop": False, "pruned": []})
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        per_host = Counter(str(w["host"]) for w in workers.values())
        shipped = ShippedData(data, training_backend(), dict(per_host))
        started = time.perf_counter()
        self._shipped = self.client.scatter(shipped, broadcast=True, hash=False)
        self.info = describe(self.client, self.address)
        log.info(
            "the data went to %d worker(s) in %.2f s",
            self.info.workers,
            time.perf_counter() - started,
        )
        self._futures: dict = {}  # Future -> TrialTask, until its outcome is taken
        self._attempts: dict[str, _Attempt] = {}  # by the token a worker gave it
        self._running: dict[tuple, str] = {}  # task key -> token of its open attempt
        self._outcomes: deque[TrialOutcome] = deque()
        self._halted = False
        self._stop_since: float | None = None
        self._watched = 0.0
        self._submitted = 0
        self._workers = sorted(workers)
        self._homes: dict[tuple, str] = {}  # a model's architecture -> the worker it prefers

    @property
    def slots(self) -> int:
        """Fits at once: one per worker process (see `lstm_core.cluster_worker`)."""
        return max(1, self.info.workers)

    @property
    def where(self) -> str:
        return f"the Dask cluster at {self.address} ({self.info.workers} worker(s))"

    def submit(self, tasks: list[TrialTask]) -> None:
        from lstm_core.cluster_worker import run_fit

        if self._halted:
            return
        for task in tasks:
            self._submitted += 1
            # Fits of one architecture prefer one worker, which keeps its traced model
            # (`model_pool`); an idle worker may still steal it, and a lost one's go elsewhere.
            home = self._homes.setdefault(
                task.model_key, self._workers[len(self._homes) % len(self._workers)]
            )
            fold = "refit" if task.fold is None else f"fold{task.fold}"
            future = self.client.submit(
                run_fit,
                task,
                self._shipped,
                self.topic,
                self._flags.name,
                key=f"fit-{task.run_id}-c{task.candidate}-r{task.round}-{fold}-{self._submitted}",
                pure=False,
                workers=[home],
                allow_other_workers=True,
            )
            self._futures[future] = task
            future.add_done_callback(lambda done: self._events.put(("done", done)))

    def in_flight(self) -> int:
        self._drop_pruned()
        return len(self._futures) + len(self._outcomes)

    def wait(self) -> TrialOutcome:
        """The next fit to finish; `RunCancelled` once stopped with nothing left to return."""
        while not self._outcomes:
            if not self._futures:
                raise RunCancelled("the run stopped its fits")
            self._watch()
            self._receive(POLL_S)
        return self._outcomes.popleft()

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
        token = message["token"]
        if message["kind"] == "start":
            self._started(token, message)
            return
        attempt = self._attempts.get(token)
        if attempt is None or self._running.get(attempt.task.key) != token:
            return  # from a try that was given up (its worker was lost)
        if message["kind"] == "epoch":
            epoch = Epoch(trial_id=attempt.context.trial_id, **message["epoch"])
            self.recorder.record(EpochEnded(epoch))
            self._drop_pruned()  # the epoch may have pruned its candidate
        else:
            self.recorder.record(FitProgress(attempt.context.trial_id, message["fraction"]))

    def _started(self, token: str, message: dict) -> None:
        key = (message["key"][0], message["key"][1], message["key"][2])
        task = next((t for t in self._futures.values() if t.key == key), None)
        if task is None:
            return  # cancelled or finished meanwhile
        earlier = self._running.pop(key, None)
        if earlier is not None:
            self._interrupt(earlier, f"it ran again on {message['worker']}")
        context = self.recorder.open_trial(task, message["pid"], message["worker"])
        self._attempts[token] = _Attempt(task, context, message["worker"])
        self._running[key] = token

    def _interrupt(self, token: str, why: str) -> None:
        attempt = self._attempts[token]
        self.recorder.finish(
            TrialOutcome(
                attempt.context,
                TrialStatus.INTERRUPTED,
                error=f"Its Dask worker {attempt.worker} was lost; {why}.",
            )
        )

    def _done(self, future) -> None:
        task = self._futures.pop(future, None)
        if task is None:
            return  # cancelled by this executor: nothing to report
        token = self._running.pop(task.key, None)
        attempt = self._attempts.get(token) if token else None
        if future.status == "finished":
            remote = future.result()
            attempt = self._attempts.get(remote.token) or _Attempt(
                task, self.recorder.open_trial(task, remote.pid, remote.worker), remote.worker
            )
            outcome = replace(remote.outcome, context=attempt.context)
        else:
            context = attempt.context if attempt else self.recorder.open_trial(task, None, "")
            outcome = TrialOutcome(context, TrialStatus.FAILED, error=_lost(future, task))
        outcome = as_pruned(outcome, self.recorder, self._stop_sent)
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
            if t.candidate in pruned and t.key not in self._running
        ]
        self._cancel(waiting)
        if not pruned <= self._pruned_sent:
            self._pruned_sent |= pruned
            self._send_flags()

    def _send_flags(self) -> None:
        self._flags.set({"stop": self._stop_sent, "pruned": sorted(self._pruned_sent)})

    def _cancel(self, futures: list) -> None:
        for future in futures:
            self._futures.pop(future, None)
        if futures:
            self.client.cancel(futures)

    def _halt(self) -> None:
        """Start nothing more: fits that have not started are cancelled."""
        self._halted = True
        self._cancel([f for f, t in self._futures.items() if t.key not in self._running])

    def _watch(self) -> None:
        """Pass on a stop (at once); let go of fits that ignore it; close the fits whose
        worker is gone (once a second: it asks the scheduler)."""
        if not self._stop_sent and self.recorder.stop_requested():
            self._stop()
        if time.monotonic() - self._watched < WATCH_S:
            return
        self._watched = time.monotonic()
        self._drop_pruned()
        if self._stop_since is not None and time.monotonic() - self._stop_since > STOP_GRACE_S:
            self._let_go()
        if self._running:
            alive = set(self.client.scheduler_info(n_workers=-1)["workers"])
            for key, token in list(self._running.items()):
                if self._attempts[token].worker not in alive:
                    del self._running[key]
                    self._interrupt(token, "Dask runs it again on another worker")

    def _stop(self) -> None:
        self._stop_sent = True
        self._stop_since = time.monotonic()
        self._send_flags()
        self._halt()

    def _let_go(self) -> None:
        """Running fits that did not stop in time: cancelled, their rows closed."""
        running = [f for f, t in self._futures.items() if t.key in self._running]
        for future in running:
            token = self._running.pop(self._futures[future].key)
            context = self._attempts[token].context
            self._outcomes.append(TrialOutcome(context, TrialStatus.CANCELLED))
        self._cancel(running)

    def close(self) -> None:
        """Stop every fit; what finished meanwhile is still recorded."""
        try:
            if self._futures:
                self._stop()
                deadline = time.monotonic() + CLOSE_S
                while self._futures and time.monotonic() < deadline:
                    self._receive(POLL_S)
                self._let_go()
            for outcome in self._outcomes:
                self.recorder.finish(outcome)
            self._outcomes.clear()
            self.client.unsubscribe_topic(self.topic)
            self._flags.delete()
            self.client.cancel([self._shipped])
        finally:
            self.client.close()


def _lost(future, task: TrialTask) -> str:
    """The sentence for a fit Dask could not bring back."""
    where = "the refit" if task.fold is None else f"candidate {task.candidate}, fold {task.fold}"
    if future.status == "cancelled":
        return f"The Dask scheduler dropped the fit ({where}); see the scheduler's log."
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
