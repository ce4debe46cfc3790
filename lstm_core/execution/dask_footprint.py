"""What a run puts on a Dask cluster, and takes away when it ends.

Its data, scattered once to every worker (`ShippedData`; a worker that joins later copies
it from a peer); its fits, as tasks that name rows of that data; the topic its fits report
on; the `Variable` that holds its stop flags. Only `lstm_core.execution.dask_executor`
uses it: this is the part of a run's executor that knows Dask's calls.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable

from lstm_core.execution.dask_worker import ShippedData, StopFlags, encode_flags, run_fit
from lstm_core.execution.trial import TrainingData, TrialTask

log = logging.getLogger(__name__)


class DaskFootprint:
    """A run's data, topic and flags on the cluster of `client`; `on_event` gets each event
    a fit sends (a msgpack dict), on Dask's thread."""

    def __init__(self, client, data: TrainingData, workers: dict, on_event: Callable[[dict], None]):
        from distributed import Variable

        from lstm_core.models.backend import training_backend

        self.client = client
        self.data = data
        self.topic = f"lstm-core-{uuid.uuid4().hex}"
        client.subscribe_topic(self.topic, lambda event: on_event(event[1]))
        self._variable = Variable(f"{self.topic}-flags", client=client)
        self.flags = StopFlags()
        self._variable.set(encode_flags(self.flags))
        self._backend = training_backend()
        self._submitted = 0
        self.shipped = self._ship(workers)

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

    def ship_again(self, workers: dict) -> None:
        """Scatter the data again if it went with the workers that held it."""
        if self.shipped.status != "finished":
            self.shipped = self._ship(workers)

    def submit(self, task: TrialTask, home: str):
        """The fit as a Dask task, preferring worker `home`; its future."""
        self._submitted += 1
        fold = "refit" if task.fold is None else f"fold{task.fold}"
        return self.client.submit(
            run_fit,
            task,
            self.shipped,
            self.topic,
            self._variable.name,
            key=f"fit-{task.run_id}-c{task.candidate}-r{task.round}-{fold}-{self._submitted}",
            pure=False,
            workers=[home],
            allow_other_workers=True,
        )

    def send(self, flags: StopFlags) -> None:
        """What the run's fits read a few times a second: stop, and the pruned candidates."""
        self.flags = flags
        self._variable.set(encode_flags(flags))

    def take_away(self) -> None:
        """The topic, the flags and the data leave the cluster (the fits are stopped)."""
        self.client.unsubscribe_topic(self.topic)
        self._variable.delete()
        self.client.cancel([self.shipped])
