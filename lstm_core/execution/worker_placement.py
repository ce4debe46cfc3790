"""Which worker of a cluster each fit prefers: an architecture's fits together, the load even.

A worker that fitted an architecture keeps its traced model (`lstm_core.models.model_pool`),
so its next fit of that architecture starts without tracing, as on local fit processes.
Preferences are loose: an idle worker may still steal a fit, and a lost worker's fits go
elsewhere. Nothing here reaches a cluster; any cluster executor can place fits with it.
"""

from __future__ import annotations

from collections import Counter

from lstm_core.execution.trial import TrialTask


class WorkerHomes:
    """Each architecture's preferred worker, kept while that keeps the load even."""

    def __init__(self) -> None:
        self._homes: dict[tuple, str] = {}  # an architecture's model key -> its worker

    def place(self, tasks: list[TrialTask], workers: list[str], busy: list[str]) -> list[str]:
        """A preferred one of `workers` for each of `tasks`; `busy`: the preferred worker of
        each fit still out.

        The architectures are spread so that each worker gets about as many fits. A batch
        of fewer architectures than workers (a Bayesian batch of one design) is spread fit
        by fit.
        """
        load = Counter({worker: 0 for worker in workers})
        load.update(busy)
        groups = Counter(t.model_key for t in tasks)
        if len(groups) < len(workers):
            return [self._prefer(t.model_key, 1, workers, load) for t in tasks]
        homes = {key: self._prefer(key, size, workers, load) for key, size in groups.most_common()}
        return [homes[t.model_key] for t in tasks]

    def _prefer(self, key: tuple, size: int, workers: list[str], load: Counter) -> str:
        """The worker for `size` fits of architecture `key`: its own while that keeps the
        load even, else the least loaded one (which becomes its own)."""
        least = min(workers, key=load.__getitem__)
        home = self._homes.get(key)
        if home not in workers or load[home] > load[least]:
            home = self._homes[key] = least
        load[home] += size
        return home
