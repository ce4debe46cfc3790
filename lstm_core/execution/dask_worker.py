"""What runs on a Dask worker: one fit, reported back over the cluster, never to a disk.

`run_fit` is the task the run's process submits (`lstm_core.execution.dask_executor`). Its
dataset comes scattered (`ShippedData`, sent once per worker); what the fit reports travels
as Dask events on the run's topic (msgpack dicts, as Dask's event log wants them, encoded
and decoded only here), each tagged with a token of this attempt, so that the run's process
can tell a fit that Dask re-ran on another worker (its first worker died) from the first
try. Whether to stop is read from a Dask `Variable` the run's process writes (`StopFlags`),
at most four times a second; once the run has deleted it (the run ended), a fit still
running stops.

Keras keeps global state (`clear_session`, the kept-model pool), so one worker process
fits one model at a time; a run refuses workers of several threads (Dask would queue fits
behind one another there, out of reach of its work stealing): start workers with
`--nthreads 1` and as many `--nworkers` as a machine has cores to share.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass

from lstm_core.domain.entities import Epoch, TrialStatus
from lstm_core.execution.fitting import fit_trial
from lstm_core.execution.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialContext,
    TrialOutcome,
    TrialTask,
)

FLAGS_CHECK_S = 0.25
FLAGS_WAIT_S = 2.0
_ONE_FIT = threading.Lock()
_prepared = False


@dataclass(frozen=True, eq=False)
class ShippedData:
    """What every fit of a run needs, scattered once to each worker."""

    data: TrainingData
    backend: str  # the Keras backend the run trains on
    workers_per_host: dict[str, int]  # to share a machine's cores between its workers


@dataclass(frozen=True, eq=False)
class RemoteOutcome:
    """A fit's outcome, with the attempt that produced it and where it ran."""

    token: str
    worker: str
    pid: int
    outcome: TrialOutcome


@dataclass(frozen=True)
class FitStarted:
    """A worker took a fit: the run's process opens the trial row of this attempt."""

    token: str
    key: tuple  # the task's (candidate, round, fold)
    worker: str
    pid: int


@dataclass(frozen=True)
class FitReport:
    """An epoch or progress of an attempt (its trial id is set by the run's process)."""

    token: str
    event: EpochEnded | FitProgress


@dataclass(frozen=True)
class StopFlags:
    """What the run's process asks of its running fits."""

    stop: bool = False
    pruned: frozenset[int] = frozenset()


def encode_event(item: FitStarted | FitReport) -> dict:
    if isinstance(item, FitStarted):
        return {
            "kind": "start",
            "token": item.token,
            "key": list(item.key),
            "worker": item.worker,
            "pid": item.pid,
        }
    if isinstance(item.event, EpochEnded):
        fields = dataclasses.asdict(item.event.epoch)
        fields.pop("trial_id")
        return {"kind": "epoch", "token": item.token, "epoch": fields}
    return {"kind": "progress", "token": item.token, "fraction": float(item.event.fraction)}


def decode_event(message: dict) -> FitStarted | FitReport:
    token = message["token"]
    if message["kind"] == "start":
        return FitStarted(token, tuple(message["key"]), message["worker"], message["pid"])
    if message["kind"] == "epoch":
        return FitReport(token, EpochEnded(Epoch(trial_id=0, **message["epoch"])))
    return FitReport(token, FitProgress(0, message["fraction"]))


def encode_flags(flags: StopFlags) -> dict:
    return {"stop": flags.stop, "pruned": sorted(flags.pruned)}


def decode_flags(message: dict) -> StopFlags:
    return StopFlags(bool(message["stop"]), frozenset(message["pruned"]))


class ClusterChannel:
    """A fit's reports go out as events on the run's topic; stop flags come from a Variable."""

    def __init__(self, worker, topic: str, token: str, flags, candidate: int):
        self.worker = worker
        self.topic = topic
        self.token = token
        self.flags = flags
        self.candidate = candidate
        self._checked = 0.0
        self._stop = False

    def send(self, event: EpochEnded | FitProgress) -> None:
        self.worker.log_event(self.topic, encode_event(FitReport(self.token, event)))

    def stop_requested(self) -> bool:
        if self._stop or time.monotonic() - self._checked < FLAGS_CHECK_S:
            return self._stop
        self._checked = time.monotonic()
        try:
            flags = decode_flags(self.flags.get(timeout=FLAGS_WAIT_S))
        except TimeoutError:  # the run set its flags before its first fit: it has ended
            self._stop = True
            return True
        except Exception:  # the scheduler is busy or unreachable: train on, ask again soon
            return False
        self._stop = flags.stop or self.candidate in flags.pruned
        return self._stop


def _prepare(shipped: ShippedData, address: str) -> str:
    """Once per worker process, before Keras loads: the run's backend, and this worker's
    share of the machine's cores (a second worker on the same machine halves it). Returns
    the backend Keras runs on here (a process cannot change it once Keras is loaded)."""
    global _prepared
    if not _prepared:
        _prepared = True
        if "keras" not in sys.modules:
            os.environ["KERAS_BACKEND"] = shipped.backend
        from distributed.comm import get_address_host

        from lstm_core.execution.fit_process import limit_threads

        sharing = shipped.workers_per_host.get(get_address_host(address), 1)
        # If TensorFlow already ran something in this process, it keeps its thread pools.
        with contextlib.suppress(RuntimeError):
            limit_threads(max(1, (os.cpu_count() or 1) // sharing))
    import keras

    return keras.backend.backend()


def run_fit(task: TrialTask, shipped: ShippedData, topic: str, flags_name: str) -> RemoteOutcome:
    """The Dask task: fit `task` here and return its outcome (records went out as events)."""
    from distributed import Variable, get_worker

    worker = get_worker()
    token = uuid.uuid4().hex
    with _ONE_FIT:
        # Said before TensorFlow loads (seconds, on a fresh worker), so that a stop in the
        # meantime treats this fit as running and waits for it, not as one it can cancel.
        started = FitStarted(token, task.key, worker.address, os.getpid())
        worker.log_event(topic, encode_event(started))
        # The run's process owns trial ids: it maps this attempt's token to its trial row.
        context = TrialContext(task.run_id, 0, task.candidate, task.round, task.fold)
        backend = _prepare(shipped, worker.address)
        if backend != shipped.backend:
            outcome = TrialOutcome(
                context,
                TrialStatus.FAILED,
                error=f"The Dask worker {worker.address} trains on Keras' {backend} backend "
                f"since an earlier run; restart the workers to train on {shipped.backend}.",
            )
        else:
            channel = ClusterChannel(worker, topic, token, Variable(flags_name), task.candidate)
            outcome = fit_trial(task, context, shipped.data, channel)
    return RemoteOutcome(token, worker.address, os.getpid(), outcome)
