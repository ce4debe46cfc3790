"""The door's cluster facet: where a run's fits can go besides this machine, and what each
worker of a cluster did for a run."""

from __future__ import annotations

import json
from collections import defaultdict

from lstm_core.api.door import Door
from lstm_core.domain.cluster_view import ClusterInfo, ClusterView, WorkerFits
from lstm_core.domain.entities import TrialStatus
from lstm_core.domain.plain import from_plain
from lstm_core.domain.spec import default_scheduler


class ClusterFacet(Door):
    """Clusters checked before a run, and seen through its fits after."""

    def check_cluster(self, address: str) -> ClusterInfo:
        """The cluster at `address` and its workers; a sentence if it is not there."""
        from lstm_core.execution.executors import check_cluster

        return check_cluster(address)

    def default_cluster(self) -> str:
        """The scheduler runs go to unless a design names one (`$LSTM_CORE_DASK_SCHEDULER`)."""
        return default_scheduler()

    def cluster_view(self, run_id: str) -> ClusterView | None:
        """For a run whose fits went to a cluster: the scheduler as the run found it, and
        what each worker did (from the run's fits); None for a run on this machine."""
        run = self.run(run_id)
        if not run.spec.cluster:
            return None
        path = self.workspace.cluster_file(run.id)
        cluster = from_plain(ClusterInfo, json.loads(path.read_text())) if path.exists() else None
        counts: dict[str, dict[TrialStatus, int]] = defaultdict(lambda: defaultdict(int))
        for trial in self.trials(run.id):
            counts[trial.worker or "unknown"][trial.status] += 1
        workers = [
            WorkerFits(
                worker=worker,
                completed=by[TrialStatus.COMPLETED] + by[TrialStatus.PRUNED],
                running=by[TrialStatus.RUNNING],
                interrupted=by[TrialStatus.INTERRUPTED] + by[TrialStatus.CANCELLED],
                failed=by[TrialStatus.FAILED],
            )
            for worker, by in sorted(counts.items())
        ]
        return ClusterView(cluster, workers)
