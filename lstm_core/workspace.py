"""Where everything that lasts lives: `$LSTM_CORE_HOME` (default `./workspace`).

It holds the SQLite run store and one folder per dataset snapshot and per run, so a
worker process, the CLI and the dashboard all find the same files.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from lstm_core.store import RunStore

HOME_VARIABLE = "LSTM_CORE_HOME"


class Workspace:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or os.environ.get(HOME_VARIABLE) or "workspace").resolve()

    @cached_property
    def store(self) -> RunStore:
        return RunStore(self.root / "runs.sqlite")

    def dataset_dir(self, dataset_id: str) -> Path:
        return self.root / "datasets" / dataset_id

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def bundle_dir(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "bundle"
