"""A Dask cluster as a run sees it: its scheduler and what each worker did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster's scheduler as a run (or a check) found it (Dask's today)."""

    scheduler: str
    dashboard: str | None  # Dask's own dashboard, if the scheduler serves one
    workers: int
    threads: int


@dataclass(frozen=True)
class WorkerFits:
    """What one place did for a run: a Dask worker's address, or `local`."""

    worker: str
    completed: int
    running: int
    interrupted: int  # lost with their worker (re-run elsewhere), or cut short by a stop
    failed: int


@dataclass(frozen=True)
class ClusterView:
    """A cluster run's workers and its scheduler (None until the run reached it)."""

    cluster: ClusterInfo | None
    workers: list[WorkerFits]
