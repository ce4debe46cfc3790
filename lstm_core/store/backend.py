"""What a store backend does: read and write rows, nothing more.

`RunStore` (`lstm_core.store.run_store`) decides everything else once for every backend:
which status may follow which and which process may write (`lifecycle`), how fits are
counted (`fit_counts`), when a lost database is refused, and the copies in run folders. A
backend keeps the rows, in transactions, and says its failures as the store's own errors
(`store_errors`), never as its driver's. SQLite is one (`backends.sqlite`); another is one
module beside it plus its migrations, registered by URL scheme in `store_url`. What a URL
names is a `StorePlace` first: checked, its writer named and, damaged, moved aside without
being opened, so that `doctor` and a stopped writer's sentence reach any backend the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from lstm_core.domain.entities import Dataset, Epoch, Run, RunResult, RunStatus, Trial, TrialStatus
from lstm_core.store.fit_counts import FitTally
from lstm_core.store.lifecycle import RunState
from lstm_core.store.lock_holder import LockHolder
from lstm_core.store.store_errors import busy_sentence

# What `Rows.update_run` may change: a run's own fields, its result and its cancel request.
RUN_CHANGES = frozenset(
    [
        "status", "pid", "worker_host", "worker_start", "heartbeat_at", "started_at",
        "finished_at", "trials_total", "error", "traceback", "name", "note", "result",
        "cancel_requested",
    ]
)  # fmt: skip
TRIAL_CHANGES = frozenset(["status", "finished_at", "score", "accuracy", "progress"])
DATASET_CHANGES = frozenset(["name", "note"])


@dataclass(frozen=True)
class DamagedRecord:
    """A row `doctor` found unreadable: where it is, and the run it belongs to if known."""

    table: str
    rowid: int
    run_id: str | None
    sentence: str


@dataclass(frozen=True)
class Upgraded:
    """What `Backend.upgrade` found: the version it started from, and whether records
    written before runs were copied into their folders must be copied now."""

    found: int
    copy_to_folders: bool


class Rows(ABC):
    """The rows of one connection: read anywhere, written only inside `Backend.writing`.

    Runs come back with `trials_done` 0 (the store counts them from `fit_tallies`).
    """

    # runs
    @abstractmethod
    def run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def newest_runs(self, limit: int) -> list[Run]: ...

    @abstractmethod
    def runs_with_status(self, status: RunStatus) -> list[Run]:
        """Oldest first."""

    @abstractmethod
    def run_ids(self, status: RunStatus | None = None, dataset_id: str | None = None) -> list[str]:
        """Ids of the runs with that status / on that dataset, oldest first."""

    @abstractmethod
    def run_state(self, run_id: str) -> RunState | None: ...

    @abstractmethod
    def fit_tallies(self, run_ids: list[str]) -> dict[str, list[FitTally]]:
        """Each run's fits, grouped by candidate, refit or not, and status."""

    @abstractmethod
    def result(self, run_id: str) -> RunResult | None: ...

    @abstractmethod
    def cancel_requested(self, run_id: str) -> bool: ...

    @abstractmethod
    def insert_run(self, run: Run, result: RunResult | None = None, replace: bool = False) -> None:
        """A new row (or, `replace`, one that overwrites the row of that id)."""

    @abstractmethod
    def update_run(self, run_id: str, **changes: Any) -> None:
        """Set the named fields (`RUN_CHANGES`) of one run."""

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """The run's epochs, fits and row."""

    # fits and epochs
    @abstractmethod
    def trials(self, run_id: str) -> list[Trial]:
        """In the order they started, numbered 1, 2, ..."""

    @abstractmethod
    def trial_run(self, trial_id: int) -> str | None:
        """The run a fit belongs to."""

    @abstractmethod
    def insert_trial(self, trial: Trial, keep_id: bool = False) -> int:
        """A fit's row; its id is the backend's own unless `keep_id` (a rebuilt run)."""

    @abstractmethod
    def update_trial(self, trial_id: int, **changes: Any) -> None:
        """Set the named fields (`TRIAL_CHANGES`) of one fit."""

    @abstractmethod
    def end_running_trials(self, run_id: str, status: TrialStatus, at: float) -> int:
        """Fits of the run still `running` now end as `status`; returns how many."""

    @abstractmethod
    def epochs(self, run_id: str) -> list[Epoch]: ...

    @abstractmethod
    def insert_epochs(self, epochs: list[Epoch]) -> None:
        """Each replaces a row of the same fit and epoch number."""

    # datasets
    @abstractmethod
    def dataset(self, dataset_id: str) -> Dataset | None: ...

    @abstractmethod
    def datasets(self) -> list[Dataset]:
        """Newest first."""

    @abstractmethod
    def insert_dataset(self, dataset: Dataset) -> None:
        """A new row; nothing if the dataset is there already."""

    @abstractmethod
    def update_dataset(self, dataset_id: str, **changes: Any) -> None:
        """Set the named fields (`DATASET_CHANGES`) of one dataset."""

    @abstractmethod
    def delete_dataset(self, dataset_id: str) -> None: ...

    # upkeep (`lstm-core doctor`)
    @abstractmethod
    def damaged_records(self) -> list[DamagedRecord]:
        """Every row that cannot be read back as its entity."""

    @abstractmethod
    def drop_rows(self, table: str, rowids: list[int]) -> None:
        """Remove rows by their place, for damaged rows whose keys cannot be read."""


class Backend(ABC):
    """Where the rows live. Opening and reading take no write lock and write nothing."""

    location: str  # what a sentence names: a file, a server
    read_only: bool = False
    outdated: bool = False  # opened on an older schema: `upgrade` before anything else

    @abstractmethod
    def exists(self) -> bool:
        """Whether there is a database yet (a new workspace has none until its first write)."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[Rows]:
        """Rows to read; before the first write, an empty schema that creates nothing."""

    @abstractmethod
    def writing(self) -> AbstractContextManager[Rows]:
        """One short transaction: all of it lands or none (an exception inside rolls it
        back); `ReadOnlyWorkspace` where nothing may be written."""

    @abstractmethod
    def upgrade(self) -> Upgraded:
        """Create the schema, or migrate an older one in one transaction."""


class StorePlace(ABC):
    """Where a store lives, before it is opened: what `doctor` and a reader's look at the
    writer need. Nothing here opens the store for writing or takes a lock, so it answers
    while a writer holds (or, stopped, never lets go of) the write lock, and on a store
    too damaged to open."""

    location: str  # what a sentence names: a file, a server

    @abstractmethod
    def open(self) -> Backend:
        """The backend on it (which refuses a damaged or newer store in one sentence)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether there is a store yet (a new workspace has none until its first write)."""

    @abstractmethod
    def writer(self) -> LockHolder | None:
        """The process holding the store's write lock now; None if free or unknown."""

    @abstractmethod
    def problem(self) -> str | None:
        """One sentence if the store cannot be trusted (damaged, unreadable, written by a
        newer version); None if it is sound or absent. Only reads."""

    @abstractmethod
    def move_aside(self) -> str:
        """Put a damaged store out of the way (never delete it) so a new one can be built
        in its place; returns where it went."""

    def stopped_writer(self) -> str | None:
        """The sentence naming a writer that is stopped (SIGSTOP, a debugger) while it holds
        the write lock: it will not let go by itself, so no write can land."""
        holder = self.writer()
        if holder is None or not holder.stopped:
            return None
        return busy_sentence(self.location, holder)
