"""What runs on a Dask worker: one fit, reported back over the cluster, never to a disk.

`run_fit` is the task the run's process submits (`lstm_core.cluster`). Its dataset comes
scattered (`ShippedData`, sent once per worker); what the fit reports travels as Dask
events on the run's topic (msgpack dicts: Dask's event log accepts nothing else), each
tagged with a token of this attempt, so that the run's process can tell a fit that Dask
re-ran on another worker (its first worker died) from the first try. Whether to stop is
read from a Dask `Variable` the run's process writes (`{"stop": bool, "pruned": [...]}`),
at most four times a second.

Keras keeps global state (`clear_session`, the kept-model pool), so one worker process
fits one model at a time whatever its thread count: start workers with `--nthreads 1`
and as many `--nworkers` as a machine has cores to share.
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

from lstm_core.trial import (
    EpochEnded,
    FitProgress,
    TrainingData,
    TrialContext,
    TrialOutcome,
    TrialTask,
    fit_trial,
)

FLAGS_CHECK_S = 0.25
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


def start_event(token: str, task: TrialTask, worker: str) -> dict:
    return {
        "kind": "start",
        "token": token,
        "key": list(task.key),
        "worker": worker,
        "pid": os.getpid(),
    }


def event_message(token: str, event: EpochEnded | FitProgress) -> dict:
    if isinstance(event, EpochEnded):
        fields = dataclasses.asdict(event.epoch)
        fields.pop("trial_id")
        return {"kind": "epoch", "token": token, "epoch": fields}
    return {"kind": "progress", "token": token, "fraction": float(event.fraction)}


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
        self.worker.log_event(self.topic, event_message(self.token, event))

    def stop_requested(self) -> bool:
        if self._stop or time.monotonic() - self._checked < FLAGS_CHECK_S:
            return self._stop
        self._checked = time.monotonic()
        try:
            flags = self.flags.get(timeout=5)
        except Exception:  # the scheduler is busy or gone: train on, ask again soon
            return False
        self._stop = bool(flags["stop"]) or self.candidate in flags["pruned"]
        return self._stop


def _prepare(shipped: ShippedData, address: str) -> None:
    """Once per worker process, before Keras loads: the run's backend, and this worker's
    share of the machine's cores (a second worker on the same machine halves it)."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = shipped.backend
    from distributed.comm import get_address_host

    from lstm_core.fit_process import limit_threads

    sharing = shipped.workers_per_host.get(get_address_host(address), 1)
    # If TensorFlow already ran something in this process, it keeps its thread pools.
    with contextlib.suppress(RuntimeError):
        limit_threads(max(1, (os.cpu_count() or 1) // sharing))


def run_fit(task: TrialTask, shipped: ShippedData, topic: str, flags_name: str) -> RemoteOutcome:
    """The Dask task: fit `task` here and return its outcome (records went out as events)."""
    from distributed import Variable, get_worker

    worker = get_worker()
    token = uuid.uuid4().hex
    with _ONE_FIT:
        _prepare(shipped, worker.address)
        worker.log_event(topic, start_event(token, task, worker.address))
        channel = ClusterChannel(worker, topic, token, Variable(flags_name), task.candidate)
        # The run's process owns trial ids: it maps this attempt's token to its trial row.
        context = TrialContext(task.run_id, 0, task.candidate, task.round, task.fold)
        outcome = fit_trial(task, context, shipped.data, channel)
    return RemoteOutcome(token, worker.address, os.getpid(), outcome)
