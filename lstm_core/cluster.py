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

import contextlib
import logging
import queue
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, replace

from lstm_core.cluster_worker import (
    FitStarted,
    ShippedData,
    StopFlags,
    decode_event,
    encode_flags,
    run_fit,
)
from lstm_core.entities import ClusterInfo, TrialStatus
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


def describe(client, address: str, workers: dict) -> ClusterInfo:
    """The scheduler and `workers` (its `scheduler_info`) as the dashboard shows them."""
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


def refuse_unusable(address: str, workers: dict) -> None:
    """A sentence if these workers cannot take a run's fits: none, or several threads each
    (a worker fits one model at a time, see `lstm_core.cluster_worker`)."""
    if not workers:
        raise UserError(
            f"The Dask scheduler at {address} has no workers; start "
            f"`dask worker {address} --nthreads 1` on each machine (with this package "
            "installed)."
        )
    threaded = sorted(a for a, w in workers.items() if int(w.get("nthreads", 1)) > 1)
    if threaded:
        raise UserError(
            f"The Dask worker {threaded[0]} runs {workers[threaded[0]]['nthreads']} threads, "
            "and a worker fits one model at a time; start the workers with "
            f"`dask worker {address} --nthreads 1 --nworkers N` (N: the machine's cores)."
        )


def check_cluster(address: str) -> ClusterInfo:
    """Connect, say what is there, disconnect (the dashboard's and the CLI's check); a
    sentence if it cannot take a run's fits."""
    address = scheduler_address(address)
    client = connect(address)
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        refuse_unusable(address, workers)
        return describe(client, address, workers)
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

        with contextlib.suppress(TimeoutError):  # no worker came: refuse_unusable says so
            self.client.wait_for_workers(1, timeout=WORKERS_WAIT_S)
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        refuse_unusable(self.address, workers)
        self.topic = f"lstm-core-{uuid.uuid4().hex}"
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.client.subscribe_topic(self.topic, lambda event: self._events.put(("event", event[1])))
        self._flags = Variable(f"{self.topic}-flags", client=self.client)
        self._sent = StopFlags()
        self._flags.set(encode_flags(self._sent))
        per_host = Counter(str(w["host"]) for w in workers.values())
        shipped = ShippedData(data, training_backend(), dict(per_host))
        started = time.perf_counter()
        self._shipped = self.client.scatter(shipped, broadcast=True, hash=False)
        self._info = describe(self.client, self.address, workers)
        log.info(
            "the data went to %d worker(s) in %.2f s",
            self._info.workers,
            time.perf_counter() - started,
        )
        self._futures: dict = {}  # Future -> TrialTask, until its outcome is taken
        self._attempts: dict[str, _Attempt] = {}  # by the token a worker gave it
        self._running: dict[tuple, str] = {}  # task key -> token of its open attempt
        self._outcomes: deque[TrialOutcome] = deque()
        self._halted = False
        self._stop_since: float | None = None
        self._watched = 0.0
        self._workerless_since: float | None = None
        self._submitted = 0
        self._workers = sorted(workers)
        self._homes: dict[tuple, str] = {}  # an architecture -> the worker it prefers (_placed)
        self._sent_to: dict = {}  # Future -> the worker it prefers

    @property
    def cluster_info(self) -> ClusterInfo:
        """The scheduler and its workers as this run found them."""
        return self._info

    @property
    def slots(self) -> int:
        """Fits at once: one per worker process (see `lstm_core.cluster_worker`)."""
        return max(1, self._info.workers)

    @property
    def where(self) -> str:
        return f"the Dask cluster at {self.address} ({self._info.workers} worker(s))"

    def submit(self, tasks: list[TrialTask]) -> None:
        if self._halted:
            return
        for task, home in zip(tasks, self._placed(tasks), strict=True):
            self._submitted += 1
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
            self._sent_to[future] = home
            future.add_done_callback(lambda done: self._events.put(("done", done)))

    def _placed(self, tasks: list[TrialTask]) -> list[str]:
        """A preferred worker for each of `tasks`.

        The fits of one architecture go to one worker, which keeps its traced model
        (`model_pool`), as local fit processes do, and the architectures are spread so
        that each worker gets about as many fits; an architecture keeps its worker while
        that stays even. A batch of fewer architectures than workers (a Bayesian batch of
        one design) is spread fit by fit. Preferences are loose: an idle worker may still
        steal a fit, and a lost worker's fits go elsewhere.
        """
        load = Counter({worker: 0 for worker in self._workers})
        load.update(self._sent_to[f] for f in self._futures if f in self._sent_to)
        groups = Counter(t.model_key for t in tasks)
        if len(groups) < len(self._workers):
            return [self._prefer(t.model_key, 1, load) for t in tasks]
        homes = {key: self._prefer(key, size, load) for key, size in groups.most_common()}
        return [homes[t.model_key] for t in tasks]

    def _prefer(self, key: tuple, size: int, load: Counter) -> str:
        """The worker for `size` fits of architecture `key`: its own while that keeps the
        load even, else the least loaded one (which becomes its own)."""
        least = min(self._workers, key=load.__getitem__)
        home = self._homes.get(key)
        if home not in self._workers or load[home] > load[least]:
            home = self._homes[key] = least
        load[home] += size
        return home

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
        item = decode_event(message)
        if isinstance(item, FitStarted):
            self._started(item)
            return
        attempt = self._attempts.get(item.token)
        if attempt is None or self._running.get(attempt.task.key) != item.token:
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
        earlier = self._running.pop(started.key, None)
        if earlier is not None:
            self._interrupt(earlier, f"it ran again on {started.worker}")
        context = self.recorder.open_trial(task, started.pid, started.worker)
        self._attempts[started.token] = _Attempt(task, context, started.worker)
        self._running[started.key] = started.token

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
        if future.status == "finished":
            remote = future.result()
            attempt = self._attempts.get(remote.token) or _Attempt(
                task, self.recorder.open_trial(task, remote.pid, remote.worker), remote.worker
            )
            outcome = replace(remote.outcome, context=attempt.context)
        else:
            outcome = TrialOutcome(
                self._row_of(task, token), TrialStatus.FAILED, error=_lost(future, task)
            )
        outcome = as_pruned(outcome, self.recorder, self._sent.stop)
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
        if not pruned <= self._sent.pruned:
            self._send(replace(self._sent, pruned=self._sent.pruned | pruned))

    def _send(self, flags: StopFlags) -> None:
        self._sent = flags
        self._flags.set(encode_flags(flags))

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
        if not self._sent.stop and self.recorder.stop_requested():
            self._stop()
        if time.monotonic() - self._watched < WATCH_S:
            return
        self._watched = time.monotonic()
        self._drop_pruned()
        if self._stop_since is not None and time.monotonic() - self._stop_since > STOP_GRACE_S:
            self._let_go()
        if not self._futures:
            return
        alive = set(self.client.scheduler_info(n_workers=-1)["workers"])
        for key, token in list(self._running.items()):
            if self._attempts[token].worker not in alive:
                del self._running[key]
                self._interrupt(token, "Dask runs it again on another worker")
        self._workerless_since = None if alive else self._workerless_since or time.monotonic()
        if self._workerless_since and time.monotonic() - self._workerless_since > WORKERS_WAIT_S:
            self._give_up(
                f"The Dask cluster at {self.address} has had no workers for "
                f"{WORKERS_WAIT_S:.0f} s; start `dask worker {self.address} --nthreads 1`, "
                "then resume the run."
            )

    def _row_of(self, task: TrialTask, token: str | None) -> TrialContext:
        """The trial row for a fit that ends without a result: its open attempt's, else a
        new one on the worker that tried it last (if any did)."""
        if token is not None:
            return self._attempts[token].context
        tried = [a.worker for a in self._attempts.values() if a.task.key == task.key]
        return self.recorder.open_trial(task, None, tried[-1] if tried else "")

    def _give_up(self, why: str) -> None:
        """Every fit left fails with `why` (the cluster cannot run them)."""
        for task in list(self._futures.values()):
            context = self._row_of(task, self._running.pop(task.key, None))
            self._outcomes.append(TrialOutcome(context, TrialStatus.FAILED, error=why))
        self._cancel(list(self._futures))
        self._halted = True

    def _stop(self) -> None:
        self._stop_since = time.monotonic()
        self._send(replace(self._sent, stop=True))
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
            # Always said, and before the flags are deleted: a fit that started unseen
            # (its worker still loading TensorFlow) stops at its first look.
            self._stop()
            if self._futures:
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
