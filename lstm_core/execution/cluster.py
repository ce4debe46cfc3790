"""A run's fits on a Dask cluster: an executor over `distributed.Client`.

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
(`lstm_core.execution.cluster_worker`). Fits that have not started are cancelled outright.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import NoReturn

from lstm_core.domain import env_settings
from lstm_core.domain.entities import ClusterInfo, TrialStatus
from lstm_core.domain.errors import RunCancelled, UserError
from lstm_core.domain.spec import scheduler_address
from lstm_core.execution.cluster_worker import (
    FitStarted,
    ShippedData,
    StopFlags,
    decode_event,
    encode_flags,
    run_fit,
)
from lstm_core.execution.executors import Executor, TrialRecorder, as_pruned
from lstm_core.execution.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialContext,
    TrialOutcome,
    TrialTask,
)

CONNECT_S = 10.0
WORKERS_WAIT_VARIABLE = "LSTM_CORE_DASK_WORKERS_WAIT_S"
WORKERS_WAIT_S = 30.0  # a cluster without workers: how long a run waits for one
POLL_S = 0.25
WATCH_S = 1.0
STOP_GRACE_S = 5.0  # after a stop, fits still running this long are let go (and cancelled)
CLOSE_S = 10.0
INSTALL_HINT = "pip install -e '.[cluster]'"

log = logging.getLogger(__name__)


def workers_wait_s() -> float:
    """How long a run waits for a worker, at its start or once none is left
    (`$LSTM_CORE_DASK_WORKERS_WAIT_S`)."""
    return env_settings.seconds(WORKERS_WAIT_VARIABLE, WORKERS_WAIT_S)


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
    (a worker fits one model at a time, see `lstm_core.execution.cluster_worker`)."""
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

        from lstm_core.models.backend import training_backend

        self._workers_wait = workers_wait_s()
        with contextlib.suppress(TimeoutError):  # no worker came: refuse_unusable says so
            self.client.wait_for_workers(1, timeout=self._workers_wait)
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        refuse_unusable(self.address, workers)
        self.topic = f"lstm-core-{uuid.uuid4().hex}"
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.client.subscribe_topic(self.topic, lambda event: self._events.put(("event", event[1])))
        self._flags = Variable(f"{self.topic}-flags", client=self.client)
        self._sent = StopFlags()
        self._flags.set(encode_flags(self._sent))
        self._backend = training_backend()
        self._shipped = self._ship(workers)
        self._info = describe(self.client, self.address, workers)
        self._run_id = ""
        self._futures: dict = {}  # Future -> TrialTask, until its outcome is taken
        self._parked: list[TrialTask] = []  # dropped with the data: sent again when workers come
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

    def _ship(self, workers: dict):
        """The run's data, scattered to every one of `workers` (their `scheduler_info`)."""
        per_host = Counter(str(w["host"]) for w in workers.values())
        shipped = ShippedData(self.data, self._backend, dict(per_host))
        started = time.perf_counter()
        future = self.client.scatter(shipped, broadcast=True, hash=False)
        log.info(
            "the data went to %d worker(s) in %.2f s", len(workers), time.perf_counter() - started
        )
        return future

    @property
    def cluster_info(self) -> ClusterInfo:
        """The scheduler and its workers as this run found them."""
        return self._info

    @property
    def slots(self) -> int:
        """Fits at once: one per worker process (see `lstm_core.execution.cluster_worker`)."""
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
        for task, home in zip(tasks, self._placed(tasks), strict=True):
            self._run_id = task.run_id
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
        self._close_running(TrialStatus.INTERRUPTED)
        self._futures.clear()
        self._parked.clear()
        self._halted = True
        raise UserError(
            f"The Dask scheduler at {self.address} went away and took the run's fits with it; "
            f"restart it and its workers, then `lstm-core resume {self._run_id}`."
        )

    def _close_running(self, status: TrialStatus) -> None:
        """The rows of the fits still running end `status`."""
        for token in self._running.values():
            self.recorder.finish(TrialOutcome(self._attempts[token].context, status))
        self._running.clear()

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
        if future.status == "cancelled" and self._scheduler_gone():
            return  # the scheduler took it: `_on_the_scheduler` says so
        task = self._futures.pop(future, None)
        if task is None:
            return  # cancelled by this executor: nothing to report
        token = self._running.pop(task.key, None)
        if future.status == "cancelled":
            # Dropped by the scheduler, which does that when the last worker holding the
            # run's data dies: it goes out again once a worker is there.
            if token is not None:
                self._interrupt(token, "it runs again once the cluster has a worker")
            self._parked.append(task)
            return
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
        self._parked.clear()
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
        if not (self._futures or self._parked):
            return
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        for key, token in list(self._running.items()):
            if self._attempts[token].worker not in workers:
                del self._running[key]
                self._interrupt(token, "Dask runs it again on another worker")
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
        if self._shipped.status != "finished":
            self._shipped = self._ship(workers)
        parked, self._parked = self._parked, []
        self._submit(parked)

    def _row_of(self, task: TrialTask, token: str | None) -> TrialContext:
        """The trial row for a fit that ends without a result: its open attempt's, else a
        new one on the worker that tried it last (if any did)."""
        if token is not None:
            return self._attempts[token].context
        tried = [a.worker for a in self._attempts.values() if a.task.key == task.key]
        return self.recorder.open_trial(task, None, tried[-1] if tried else "")

    def _give_up(self, why: str) -> None:
        """Every fit left fails with `why` (the cluster cannot run them)."""
        for task in [*self._futures.values(), *self._parked]:
            context = self._row_of(task, self._running.pop(task.key, None))
            self._outcomes.append(TrialOutcome(context, TrialStatus.FAILED, error=why))
        self._parked.clear()
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
            try:
                if not self._scheduler_gone():
                    self._stop_on_the_cluster()
            except OSError:  # the scheduler went away meanwhile
                if not self._scheduler_gone():
                    raise
            self._close_running(TrialStatus.INTERRUPTED)  # what a lost scheduler took
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
        self.client.unsubscribe_topic(self.topic)
        self._flags.delete()
        self.client.cancel([self._shipped])


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
