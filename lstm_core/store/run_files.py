"""A copy of every run and dataset record in its own folder, so a lost database can be rebuilt.

`runs/RUN_ID/run.json` holds the run (spec, status, times, error) and, once it completed,
its result, fits and epochs; `datasets/ID/dataset.json` holds a dataset's description.
Each is replaced whole (written beside, then renamed), so a crash never leaves half a
file. Writing them is best effort: the database already has the record, so a failure
(a full disk, say) is a warning, never an error of the operation that caused it.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lstm_core.domain.entities import Dataset, Epoch, Run, RunResult, Trial
from lstm_core.domain.plain import from_plain, to_plain

RUN_FILE = "run.json"
LOCK_FILE = "run.lock"
DATASET_FILE = "dataset.json"
FORMAT = 1


@dataclass(frozen=True)
class ArchivedRun:
    run: Run
    result: RunResult | None
    trials: list[Trial]
    epochs: list[Epoch]


def write_json(path: Path, payload) -> None:
    """Replace `path` whole, through a partial file of this writer's own (removed if
    writing fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    partial = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(payload))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class RunArchive:
    """Run and dataset records mirrored into the workspace's folders."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def run_file(self, run_id: str) -> Path:
        return self.root / "runs" / run_id / RUN_FILE

    @contextmanager
    def locked(self, run_id: str) -> Iterator[None]:
        """One process at a time reads a run's state and copies it (best effort too)."""
        path = self.root / "runs" / run_id / LOCK_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a")  # noqa: SIM115 (held for the block)
        except OSError:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def dataset_file(self, dataset_id: str) -> Path:
        return self.root / "datasets" / dataset_id / DATASET_FILE

    def save_run(
        self,
        run: Run,
        result: RunResult | None = None,
        trials: list[Trial] | None = None,
        epochs: list[Epoch] | None = None,
    ) -> None:
        payload = {
            "format": FORMAT,
            "run": to_plain(run),
            "result": to_plain(result),
            "trials": to_plain(trials or []),
            "epochs": to_plain(epochs or []),
        }
        self._safely(self.run_file(run.id), payload)

    def save_dataset(self, dataset: Dataset) -> None:
        self._safely(self.dataset_file(dataset.id), {"format": FORMAT, **to_plain(dataset)})

    @staticmethod
    def _safely(path: Path, payload) -> None:
        try:
            write_json(path, payload)
        except OSError as exc:
            warnings.warn(f"could not copy the record to {path}: {exc}", stacklevel=3)

    def recorded_runs(self) -> list[str]:
        """Ids of the run folders that hold a record: each was once in a database."""
        return sorted(path.parent.name for path in (self.root / "runs").glob(f"*/{RUN_FILE}"))

    def runs(self) -> list[ArchivedRun]:
        """Every run folder's record, oldest first; folders without a readable one are skipped."""
        found = []
        for path in sorted((self.root / "runs").glob(f"*/{RUN_FILE}")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(
                    ArchivedRun(
                        from_plain(Run, data["run"]),
                        data["result"] and from_plain(RunResult, data["result"]),
                        [from_plain(Trial, t) for t in data.get("trials", [])],
                        [from_plain(Epoch, e) for e in data.get("epochs", [])],
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def datasets(self) -> list[Dataset]:
        found = []
        for path in sorted((self.root / "datasets").glob(f"*/{DATASET_FILE}")):
            try:
                found.append(from_plain(Dataset, json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return found
