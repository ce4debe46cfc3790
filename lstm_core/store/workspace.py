"""Where everything that lasts lives: `$LSTM_CORE_HOME` (default `./workspace`).

It holds one folder per dataset snapshot and per run and, unless `$LSTM_CORE_STORE_URL`
names another (`store_url`), the run store's SQLite file, so a worker process, the CLI and
the dashboard all find the same files. Only the engine builds these paths.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from lstm_core.domain import env_settings
from lstm_core.domain.entities import Run, RunStatus
from lstm_core.store.backend import StorePlace
from lstm_core.store.run_files import RunArchive
from lstm_core.store.run_store import RunStore
from lstm_core.store.store_url import (
    STORE_URL_VARIABLE,
    database_file,
    open_store,
    sqlite_url,
    store_place,
)

HOME_VARIABLE = "LSTM_CORE_HOME"
DATABASE_FILE = "runs.sqlite"
WORKER_LOG = "worker.log"
PREDICTIONS_FILE = "predictions.jsonl"
STUDY_FILE = "study.db"
CLUSTER_FILE = "cluster.json"
RESERVE_FILE = ".reserve"


class Workspace:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or os.environ.get(HOME_VARIABLE) or "workspace").resolve()

    @cached_property
    def store_url(self) -> str:
        """`$LSTM_CORE_STORE_URL`, else the SQLite file in this folder."""
        return env_settings.text(STORE_URL_VARIABLE) or sqlite_url(self.root / DATABASE_FILE)

    @property
    def database(self) -> Path:
        """The store's file, for what works on the file itself (tests, a backup)."""
        return database_file(self.store_url)

    @property
    def store_place(self) -> StorePlace:
        """Where the store lives, not opened: its writer, and what `doctor` checks, moves
        aside and rebuilds. Nothing here writes or takes a lock (a stopped writer blocks
        none of it)."""
        return store_place(self.store_url)

    @cached_property
    def archive(self) -> RunArchive:
        return RunArchive(self.root)

    @cached_property
    def store(self) -> RunStore:
        return open_store(self.store_url, self.archive)

    def dataset_dir(self, dataset_id: str) -> Path:
        return self.root / "datasets" / dataset_id

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def bundle_dir(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "bundle"

    def worker_log(self, run_id: str) -> Path:
        return self.run_dir(run_id) / WORKER_LOG

    def study_file(self, run_id: str) -> Path:
        """A Bayesian run's Optuna study (`lstm_core.search.bayes`)."""
        return self.run_dir(run_id) / STUDY_FILE

    def cluster_file(self, run_id: str) -> Path:
        """Where a run's fits went on a Dask cluster (`ClusterInfo`), for the Runs page."""
        return self.run_dir(run_id) / CLUSTER_FILE

    def predictions_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / PREDICTIONS_FILE

    def files_problem(self, run: Run) -> str | None:
        """What of an ended run's files was removed outside the workbench, in one
        sentence; None while they are all there (a run still going makes its own)."""
        if run.status.active:
            return None
        folder = self.run_dir(run.id)
        if not folder.is_dir():
            return (
                f"Run {run.id}'s folder ({folder}) is gone: its model and files were removed "
                "outside the workbench."
            )
        if run.status == RunStatus.COMPLETED and not self.bundle_dir(run.id).is_dir():
            return (
                f"Run {run.id}'s saved model ({self.bundle_dir(run.id)}) is gone: it was "
                "removed outside the workbench."
            )
        return None

    def reserve_file(self, run_id: str, pid: int) -> Path:
        """Space a run's worker holds back, so that it can still record a full disk."""
        return self.run_dir(run_id) / f"{RESERVE_FILE}-{pid}"
