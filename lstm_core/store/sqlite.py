"""The run store: a narrow interface, and the SQLite file that worker processes share.

`RunStore` is the interface the engine uses (create a run, change its status through event
methods that refuse impossible transitions, log epochs in batches, read entities back).
`SQLiteRunStore` implements it on one file in WAL mode: readers never wait on the writer,
and every write is a short transaction on its own connection, so several processes can
share the file. Opening and reading take no write lock: a process paused inside a write
(SIGSTOP, a debugger) cannot stop anyone from reading, and a write that meets it ends in
one sentence naming it (`lstm_core.store.lock_holder`). An older schema is migrated in one
explicit step (`upgrade`, `lstm_core.store.migrations`).

What a worker writes carries its identity (`owner`): a write for a run that is no longer
running under that very process is refused (`RunTakenAway`), so a process that lost its
run can never write into it. A damaged database, a damaged row (named by record and field)
or a missing database beside run folders is reported (`StoreDamaged`), never silently
replaced; a workspace that cannot be written is opened read-only. SQLite's errors become
sentences here and nowhere else. Every change of a run is also mirrored into its folder
(`lstm_core.store.run_files`), from which `lstm-core doctor --repair` rebuilds what was lost.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_core.domain.entities import (
    Dataset,
    Epoch,
    Run,
    RunResult,
    RunStatus,
    Trial,
    TrialStatus,
    to_plain,
)
from lstm_core.domain.errors import UserError
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.lock_holder import write_lock_holder
from lstm_core.store.migrations import SCHEMA_VERSION, NewerSchema, schema_version, upgrade
from lstm_core.store.store_errors import (
    WRITE_WAIT_S,
    ReadOnlyWorkspace,
    RecordDamaged,
    StoreDamaged,
    WorkspaceBusy,
    busy_sentence,
    is_busy,
    repair_hint,
    storage_error,
)
from lstm_core.store.store_rows import (
    dataset_of,
    epoch_of,
    epoch_row,
    result_of,
    run_of,
    text_value,
    trial_of,
)

if TYPE_CHECKING:
    from lstm_core.store.run_files import ArchivedRun, RunArchive

_ALLOWED_FROM = {
    RunStatus.RUNNING: (RunStatus.QUEUED,),
    RunStatus.COMPLETED: (RunStatus.RUNNING,),
    RunStatus.FAILED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.CANCELLED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.INTERRUPTED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.QUEUED: (RunStatus.CANCELLED, RunStatus.INTERRUPTED, RunStatus.FAILED),
}
# When a run ends, the fits it still had running end with it (the fit that failed a run
# has already recorded its own failure).
_TRIALS_ENDING_AS = {
    RunStatus.FAILED: TrialStatus.INTERRUPTED,
    RunStatus.CANCELLED: TrialStatus.CANCELLED,
    RunStatus.INTERRUPTED: TrialStatus.INTERRUPTED,
}


ARCHIVED_SINCE = 3  # the schema version from which every change is copied into folders
READ_WAIT_S = 5.0  # WAL readers never wait on a writer; this only covers a checkpoint
LOCK_LOOK_S = 0.5  # how often a waiting write looks at who holds the lock


@dataclass(frozen=True)
class DamagedRecord:
    """A row `doctor` found unreadable: where it is, and the run it belongs to if known."""

    table: str
    rowid: int
    run_id: str | None
    sentence: str


def new_run_id() -> str:
    """Sortable by creation time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class InvalidTransition(RuntimeError):
    """A status change that the run's lifecycle does not allow (a bug, or a lost race)."""


class RunTakenAway(InvalidTransition):
    """The run is no longer running under the process that tried to write into it."""


class RunStore(ABC):
    """What the engine needs from a store; SQLite sits behind it here."""

    read_only: bool = False

    # datasets
    @abstractmethod
    def add_dataset(self, dataset: Dataset) -> None: ...

    @abstractmethod
    def get_dataset(self, dataset_id: str) -> Dataset | None: ...

    @abstractmethod
    def list_datasets(self) -> list[Dataset]: ...

    @abstractmethod
    def runs_of_dataset(self, dataset_id: str) -> list[str]: ...

    @abstractmethod
    def delete_dataset(self, dataset_id: str) -> None: ...

    @abstractmethod
    def describe_dataset(
        self, dataset_id: str, name: str | None = None, note: str | None = None
    ) -> Dataset:
        """Set a dataset's name or note (None leaves it; an empty note clears it)."""

    # runs
    @abstractmethod
    def create_run(
        self, spec: ExperimentSpec, trials_total: int, running: WorkerIdentity | None = None
    ) -> str: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def list_runs(self, limit: int = 200) -> list[Run]: ...

    @abstractmethod
    def runs_with_status(self, status: RunStatus) -> list[Run]: ...

    @abstractmethod
    def claim_next(self, max_running: int) -> Run | None: ...

    @abstractmethod
    def attach_worker(self, run_id: str, worker: WorkerIdentity) -> bool: ...

    @abstractmethod
    def start_run(self, run_id: str, worker: WorkerIdentity, trials_total: int) -> None: ...

    @abstractmethod
    def heartbeat(self, run_id: str, owner: WorkerIdentity) -> None: ...

    @abstractmethod
    def complete_run(
        self, run_id: str, result: RunResult, owner: WorkerIdentity | None = None
    ) -> None: ...

    @abstractmethod
    def fail_run(
        self, run_id: str, error: str, traceback: str = "", owner: WorkerIdentity | None = None
    ) -> None: ...

    @abstractmethod
    def cancel_run(self, run_id: str, owner: WorkerIdentity | None = None) -> None: ...

    @abstractmethod
    def interrupt_run(self, run_id: str, error: str) -> None: ...

    @abstractmethod
    def requeue_run(self, run_id: str) -> None: ...

    @abstractmethod
    def request_cancel(self, run_id: str) -> None: ...

    @abstractmethod
    def cancel_requested(self, run_id: str) -> bool: ...

    @abstractmethod
    def get_result(self, run_id: str) -> RunResult | None: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abstractmethod
    def describe_run(self, run_id: str, name: str | None = None, note: str | None = None) -> Run:
        """Set a run's name or note (None leaves it; an empty string clears it)."""

    @abstractmethod
    def restore_run(self, record: ArchivedRun, replace: bool = False) -> None: ...

    # upkeep (`lstm-core doctor`)
    @abstractmethod
    def upgrade(self, anew: bool = False) -> int:
        """Create or migrate the schema; returns the version found."""

    @abstractmethod
    def archive_run(self, run_id: str) -> None: ...

    @abstractmethod
    def damaged_records(self) -> list[DamagedRecord]: ...

    @abstractmethod
    def drop_rows(self, table: str, rowids: list[int]) -> None: ...

    # trials and epochs
    @abstractmethod
    def start_trial(
        self,
        run_id: str,
        *,
        candidate: int,
        round: int,
        fold: int | None,
        params: dict[str, Any],
        n_train: int,
        epochs_planned: int,
        pid: int | None,
        worker: str,
        owner: WorkerIdentity | None = None,
    ) -> int: ...

    @abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        status: TrialStatus,
        score: float | None = None,
        owner: WorkerIdentity | None = None,
        accuracy: float | None = None,
    ) -> None: ...

    @abstractmethod
    def set_trial_progress(
        self, trial_id: int, fraction: float, owner: WorkerIdentity | None = None
    ) -> None: ...

    @abstractmethod
    def end_open_trials(self, run_id: str, status: TrialStatus) -> int: ...

    @abstractmethod
    def trials(self, run_id: str) -> list[Trial]: ...

    @abstractmethod
    def log_epochs(self, epochs: list[Epoch], owner: WorkerIdentity | None = None) -> None: ...

    @abstractmethod
    def epochs(self, run_id: str) -> list[Epoch]: ...


_RUN_COLUMNS = (
    "r.id, r.created_at, r.dataset_id, r.spec, r.status, r.pid, r.heartbeat_at, r.started_at, "
    "r.finished_at, r.trials_total, r.error, r.traceback, r.worker_host, r.worker_start, "
    "r.name, r.note, "
    "d.name AS d_name, d.text_column AS d_text, d.label_column AS d_label, d.rows AS d_rows, "
    "d.class_counts AS d_counts, d.created_at AS d_created, d.note AS d_note, "
    # fits done as `lstm_core.insight.progress.fits_done` counts them: a pruned candidate's folds
    # all count as done, none of them twice
    "(SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id AND t.status = 'completed' "
    "AND (t.fold IS NULL OR t.candidate NOT IN (SELECT p.candidate FROM trials p "
    "WHERE p.run_id = r.id AND p.status = 'pruned'))) AS trials_done, "
    "(SELECT COUNT(DISTINCT p.candidate) FROM trials p WHERE p.run_id = r.id "
    "AND p.status = 'pruned' AND p.fold IS NOT NULL) AS pruned_candidates"
)
_RUNS_FROM = "runs r LEFT JOIN datasets d ON d.id = r.dataset_id"
# A run that `owner` may write into: running, under that very process.
_OWNED = "status = 'running' AND pid = ? AND worker_host = ? AND worker_start IS ?"
_TRIAL_OWNED = f"run_id IN (SELECT id FROM runs WHERE {_OWNED})"


def _owner_args(owner: WorkerIdentity) -> tuple:
    return (owner.pid, owner.host, owner.started)


def _delete_run_rows(db: sqlite3.Connection, run_id: str) -> None:
    db.execute(
        "DELETE FROM epochs WHERE trial_id IN (SELECT id FROM trials WHERE run_id = ?)",
        (run_id,),
    )
    db.execute("DELETE FROM trials WHERE run_id = ?", (run_id,))
    db.execute("DELETE FROM runs WHERE id = ?", (run_id,))


def _read_only_connection(path: Path) -> sqlite3.Connection:
    """Read what is committed, the write-ahead log included; a folder that does not even
    let SQLite read its shared-memory file (a read-only mount) is read as an immutable
    snapshot."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        return sqlite3.connect(f"file:{path}?immutable=1", uri=True, isolation_level=None)


def database_problem(path: Path) -> str | None:
    """One sentence if the database file cannot be trusted; None if it is sound or absent.

    Only reads: it answers while a writer holds the lock, on a read-only mount and on a
    full disk (what stops it from reading at all is raised as its own sentence).
    """
    if not path.exists():
        return None
    if path.stat().st_size == 0:
        return f"The run database {path} is empty (0 bytes)."
    try:
        db = _read_only_connection(path)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
        finally:
            db.close()
    except sqlite3.Error as exc:
        error = storage_error(path, exc)
        if isinstance(error, StoreDamaged):
            return f"The run database {path} cannot be read ({exc})."
        raise error from None
    if rows != ["ok"]:
        return f"The run database {path} is damaged (integrity check: {rows[0]})."
    if version > SCHEMA_VERSION:
        return f"The run database {path} was written by a newer version of the workbench."
    return None


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return os.access(parent, os.W_OK)


class SQLiteRunStore(RunStore):
    def __init__(self, path: str | os.PathLike, archive: RunArchive | None = None):
        """Open without writing: a database of today's schema is only read until a write
        is asked; an older one is migrated first (`upgrade`), a missing one created by
        the first write of a workspace that never had one."""
        self.path = Path(path)
        self.archive = archive
        self.read_only = not _writable(self.path)
        if not self.path.exists():
            if self.read_only:
                raise ReadOnlyWorkspace(
                    f"The workspace {self.path.parent} cannot be written and holds no runs "
                    "yet; choose a folder you can write (LSTM_CORE_HOME)."
                )
            return
        if self.path.stat().st_size == 0:
            raise StoreDamaged(repair_hint(self.path, "the file is empty"))
        with self._connect() as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            version = schema_version(db)
        if check != "ok":
            raise StoreDamaged(repair_hint(self.path, f"integrity check: {check}"))
        if version > SCHEMA_VERSION:
            raise NewerSchema(
                f"This workspace's database has schema version {version}, newer than this "
                f"version of the workbench knows ({SCHEMA_VERSION}); upgrade the workbench."
            )
        if version < SCHEMA_VERSION:
            if self.read_only:
                raise ReadOnlyWorkspace(
                    f"The run database {self.path} was written by another version of the "
                    "workbench and cannot be upgraded here, where it is read-only."
                )
            self.upgrade()

    def upgrade(self, anew: bool = False) -> int:
        """Create or migrate the schema (the one step that writes before anything is
        asked: a new workspace's first write, or an older database's first open);
        returns the version found. An older database is copied aside first. A database
        lost beside run folders is only created `anew` (`doctor --repair` rebuilding it)."""
        creating = not self.path.exists()
        if creating and not anew:
            self._refuse_a_lost_database()
        if creating:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(create=creating) as db:
            db.execute("PRAGMA journal_mode=WAL")
            if 0 < schema_version(db) < SCHEMA_VERSION:
                self._keep_a_copy(db)
        with self._write(create=creating) as db:
            found = upgrade(db)
        if 0 < found < ARCHIVED_SINCE:
            self._mirror_everything()
        return found

    def _refuse_a_lost_database(self) -> None:
        """A workspace whose runs left records in their folders had a database: it is
        reported, never silently started anew."""
        folders = [] if self.archive is None else self.archive.recorded_runs()
        if folders:
            raise StoreDamaged(
                f"The run database {self.path} is missing, but {len(folders)} run folder(s) "
                "remain; nothing was changed. Run `lstm-core doctor --repair` to rebuild it "
                "from them."
            )

    @contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite's errors become one sentence that says what to do
        (`store_errors.storage_error`). Before a workspace's first write there is no file: reads then
        see an empty schema in memory, and nothing is created."""
        try:
            if not create and not self.path.exists():
                self._refuse_a_lost_database()
                db = sqlite3.connect(":memory:", isolation_level=None)
                upgrade(db)
            elif self.read_only:
                db = _read_only_connection(self.path)
            else:  # mode=rw: a database that vanished is an error, not a new empty file
                mode = "rwc" if create else "rw"
                db = sqlite3.connect(
                    f"file:{self.path}?mode={mode}",
                    uri=True,
                    timeout=READ_WAIT_S,
                    isolation_level=None,
                )
                db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            db.text_factory = text_value
            try:
                yield db
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc) from None

    @contextmanager
    def _write(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """One short immediate transaction: either all of it lands or none."""
        if self.read_only:
            raise ReadOnlyWorkspace(
                f"The workspace {self.path.parent} is read-only here; runs can be listed and "
                "models used, but nothing can be changed."
            )
        if not create and not self.path.exists():
            self.upgrade()
        with self._connect(create=create) as db:
            self._begin(db)
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _begin(self, db: sqlite3.Connection) -> None:
        """Take the write lock, waiting up to `WRITE_WAIT_S` for another writer; a holder
        that is stopped will never let go, so that is said at once."""
        db.execute(f"PRAGMA busy_timeout={int(LOCK_LOOK_S * 1000)}")
        deadline = time.monotonic() + WRITE_WAIT_S
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                holder = write_lock_holder(self.path)
                if (holder is not None and holder.stopped) or time.monotonic() >= deadline:
                    raise WorkspaceBusy(busy_sentence(self.path, holder)) from None

    def _keep_a_copy(self, db: sqlite3.Connection) -> None:
        """Before migrating, a copy of the database as it was (`runs.sqlite.vN`)."""
        copy = self.path.with_name(f"{self.path.name}.v{schema_version(db)}")
        if not copy.exists():
            with sqlite3.connect(copy) as target:
                db.backup(target)

    def _mirror_everything(self) -> None:
        """Records of a workspace from before runs were copied into their folders."""
        if self.archive is None:
            return
        for dataset in self.list_datasets():
            self.archive.save_dataset(dataset)
        for run in self.list_runs(limit=1_000_000):
            self._mirror(run.id, with_history=run.status.finished)

    def _mirror(self, run_id: str, with_history: bool = False) -> None:
        """Copy the run's record into its folder (best effort: the database already has it).

        Read and written under the folder's lock, so the last copy is of the latest state.
        """
        if self.archive is None:
            return
        with self.archive.locked(run_id):
            try:
                run = self.get_run(run_id)
                if run is None:
                    return
                history = (self.trials(run_id), self.epochs(run_id)) if with_history else ([], [])
                result = self.get_result(run_id)
            except StoreDamaged as exc:  # the folder keeps its last good copy
                warnings.warn(f"run {run_id} was not copied to its folder: {exc}", stacklevel=2)
                return
            self.archive.save_run(run, result, *history)

    def archive_run(self, run_id: str) -> None:
        """Copy the run's record into its folder again (a folder removed by hand)."""
        run = self.get_run(run_id)
        if run is not None:
            self._mirror(run_id, with_history=run.status.finished)

    def damaged_records(self) -> list[DamagedRecord]:
        """Every row that cannot be read back, found by reading each one (`quick_check`
        only sees pages, not a damaged byte inside a value)."""
        found: list[DamagedRecord] = []
        queries = (
            ("runs", f"SELECT r.rowid AS row_id, {_RUN_COLUMNS} FROM {_RUNS_FROM}", run_of),
            ("runs", "SELECT rowid AS row_id, id, result FROM runs", result_of),
            ("trials", "SELECT rowid AS row_id, * FROM trials", lambda row: trial_of(row, 0)),
            ("datasets", "SELECT rowid AS row_id, * FROM datasets", dataset_of),
            (
                "epochs",
                "SELECT e.rowid AS row_id, e.*, t.run_id FROM epochs e "
                "LEFT JOIN trials t ON t.id = e.trial_id",
                epoch_of,
            ),
        )
        with self._connect() as db:
            for table, sql, build in queries:
                for row in db.execute(sql):
                    try:
                        build(row)
                    except RecordDamaged as exc:
                        found.append(DamagedRecord(table, row["row_id"], exc.run_id, exc.problem))
        return found

    # datasets
    def add_dataset(self, dataset: Dataset) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO datasets (id, name, text_column, label_column, rows, "
                "class_counts, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset.id,
                    dataset.name,
                    dataset.text_column,
                    dataset.label_column,
                    dataset.rows,
                    json.dumps(dataset.class_counts),
                    dataset.created_at or time.time(),
                    dataset.note,
                ),
            )
        if self.archive is not None:
            self.archive.save_dataset(self.get_dataset(dataset.id))

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return None if row is None else dataset_of(row)

    def list_datasets(self) -> list[Dataset]:
        """Newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM datasets ORDER BY created_at DESC").fetchall()
        return [dataset_of(r) for r in rows]

    def runs_of_dataset(self, dataset_id: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id FROM runs WHERE dataset_id = ? ORDER BY created_at", (dataset_id,)
            ).fetchall()
        return [r["id"] for r in rows]

    def delete_dataset(self, dataset_id: str) -> None:
        """Refused (InvalidTransition) while any run refers to it; checked in the same write."""
        with self._write() as db:
            used = db.execute(
                "SELECT COUNT(*) FROM runs WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()[0]
            if used:
                raise InvalidTransition(f"dataset {dataset_id} is used by {used} run(s)")
            db.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    def describe_dataset(
        self, dataset_id: str, name: str | None = None, note: str | None = None
    ) -> Dataset:
        with self._write() as db:
            if name is not None:
                db.execute("UPDATE datasets SET name = ? WHERE id = ?", (name, dataset_id))
            if note is not None:
                db.execute("UPDATE datasets SET note = ? WHERE id = ?", (note or None, dataset_id))
        dataset = self.get_dataset(dataset_id)
        if dataset is None:
            raise UserError(f"There is no dataset '{dataset_id}' in this workspace.")
        if self.archive is not None:
            self.archive.save_dataset(dataset)
        return dataset

    # runs
    def create_run(
        self, spec: ExperimentSpec, trials_total: int, running: WorkerIdentity | None = None
    ) -> str:
        """A queued run, or with `running` one already running in that (foreground) process."""
        run_id, now = new_run_id(), time.time()
        status = RunStatus.QUEUED if running is None else RunStatus.RUNNING
        started = None if running is None else now
        with self._write() as db:
            inserted = db.execute(
                "INSERT INTO runs (id, created_at, dataset_id, spec, status, trials_total, pid, "
                "worker_host, worker_start, started_at, heartbeat_at) "
                "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM datasets WHERE id = ?)",
                (
                    run_id,
                    now,
                    spec.dataset_id,
                    json.dumps(spec.to_dict()),
                    status,
                    trials_total,
                    running and running.pid,
                    running and running.host,
                    running and running.started,
                    started,
                    started,
                    spec.dataset_id,
                ),
            ).rowcount
        if not inserted:
            raise UserError(
                f"Dataset {spec.dataset_id} is not in this workspace; load and confirm it first."
            )
        self._mirror(run_id)
        return run_id

    def _select_runs(self, where: str = "", args: tuple = (), tail: str = "") -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM {_RUNS_FROM} {where} {tail}", args
            ).fetchall()
        return [run_of(r) for r in rows]

    def get_run(self, run_id: str) -> Run | None:
        found = self._select_runs("WHERE r.id = ?", (run_id,))
        return found[0] if found else None

    def list_runs(self, limit: int = 200) -> list[Run]:
        """Newest first."""
        return self._select_runs(
            tail="ORDER BY r.created_at DESC, r.id DESC LIMIT ?", args=(limit,)
        )

    def runs_with_status(self, status: RunStatus) -> list[Run]:
        return self._select_runs("WHERE r.status = ?", (status,), "ORDER BY r.created_at")

    def _transition(
        self,
        run_id: str,
        status: RunStatus,
        owner: WorkerIdentity | None = None,
        **fields: Any,
    ) -> None:
        allowed = _ALLOWED_FROM[status]
        sets = ", ".join(f"{name} = ?" for name in ("status", *fields))
        marks = ", ".join("?" for _ in allowed)
        where, args = f"id = ? AND status IN ({marks})", (run_id, *allowed)
        if owner is not None:
            where, args = f"{where} AND {_OWNED}", (*args, *_owner_args(owner))
        with self._write() as db:
            changed = db.execute(
                f"UPDATE runs SET {sets} WHERE {where}", (status, *fields.values(), *args)
            ).rowcount
            if changed and status in _TRIALS_ENDING_AS:
                db.execute(
                    "UPDATE trials SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
                    (_TRIALS_ENDING_AS[status], time.time(), run_id, TrialStatus.RUNNING),
                )
        if not changed:
            current = self.get_run(run_id)
            now = current.status if current else "missing"
            if owner is not None and current is not None and current.status == RunStatus.RUNNING:
                raise RunTakenAway(f"run {run_id} is no longer this process's")
            error = RunTakenAway if owner is not None else InvalidTransition
            raise error(f"run {run_id} cannot go from {now} to {status}")
        self._mirror(run_id, with_history=status.finished)

    def claim_next(self, max_running: int) -> Run | None:
        """Mark the oldest queued run `running` if fewer than `max_running` are; one transaction.

        The claimed run has no worker until its process is attached, so two dispatchers can
        never start more runs than the limit, and a claim whose worker never started is
        found by its stale heartbeat.
        """
        now = time.time()
        with self._write() as db:
            running = db.execute(
                "SELECT COUNT(*) FROM runs WHERE status = ?", (RunStatus.RUNNING,)
            ).fetchone()[0]
            if running >= max_running:
                return None
            row = db.execute(
                "SELECT id FROM runs WHERE status = ? ORDER BY created_at, id LIMIT 1",
                (RunStatus.QUEUED,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE runs SET status = ?, started_at = ?, heartbeat_at = ?, pid = NULL, "
                "worker_host = NULL, worker_start = NULL WHERE id = ?",
                (RunStatus.RUNNING, now, now, row["id"]),
            )
        self._mirror(row["id"])
        return self.get_run(row["id"])

    def attach_worker(self, run_id: str, worker: WorkerIdentity) -> bool:
        """Give a claimed run its worker; False if another process holds it already."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE runs SET pid = ?, worker_host = ?, worker_start = ?, heartbeat_at = ? "
                    "WHERE id = ? AND status = ? AND (pid IS NULL OR "
                    "(pid = ? AND worker_host = ? AND worker_start IS ?))",
                    (
                        worker.pid,
                        worker.host,
                        worker.started,
                        time.time(),
                        run_id,
                        RunStatus.RUNNING,
                        *_owner_args(worker),
                    ),
                ).rowcount
            )

    def start_run(self, run_id: str, worker: WorkerIdentity, trials_total: int) -> None:
        now = time.time()
        self._transition(
            run_id,
            RunStatus.RUNNING,
            pid=worker.pid,
            worker_host=worker.host,
            worker_start=worker.started,
            started_at=now,
            heartbeat_at=now,
            trials_total=trials_total,
        )

    def heartbeat(self, run_id: str, owner: WorkerIdentity) -> None:
        with self._write() as db:
            changed = db.execute(
                f"UPDATE runs SET heartbeat_at = ? WHERE id = ? AND {_OWNED}",
                (time.time(), run_id, *_owner_args(owner)),
            ).rowcount
        if not changed:
            raise RunTakenAway(f"run {run_id} is no longer this process's")

    def complete_run(
        self, run_id: str, result: RunResult, owner: WorkerIdentity | None = None
    ) -> None:
        self._transition(
            run_id,
            RunStatus.COMPLETED,
            owner,
            finished_at=time.time(),
            result=json.dumps(to_plain(result)),
        )

    def fail_run(
        self, run_id: str, error: str, traceback: str = "", owner: WorkerIdentity | None = None
    ) -> None:
        self._transition(
            run_id,
            RunStatus.FAILED,
            owner,
            finished_at=time.time(),
            error=error,
            traceback=traceback,
        )

    def cancel_run(self, run_id: str, owner: WorkerIdentity | None = None) -> None:
        self._transition(run_id, RunStatus.CANCELLED, owner, finished_at=time.time())

    def interrupt_run(self, run_id: str, error: str) -> None:
        self._transition(run_id, RunStatus.INTERRUPTED, finished_at=time.time(), error=error)

    def requeue_run(self, run_id: str) -> None:
        """Queue an ended run again (resume): its trials and epochs stay."""
        self._transition(
            run_id,
            RunStatus.QUEUED,
            pid=None,
            worker_host=None,
            worker_start=None,
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            traceback=None,
            result=None,
            cancel_requested=0,
        )

    def request_cancel(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def get_result(self, run_id: str) -> RunResult | None:
        with self._connect() as db:
            row = db.execute("SELECT id, result FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else result_of(row)

    def describe_run(self, run_id: str, name: str | None = None, note: str | None = None) -> Run:
        with self._write() as db:
            for column, value in (("name", name), ("note", note)):
                if value is not None:
                    db.execute(
                        f"UPDATE runs SET {column} = ? WHERE id = ?", (value or None, run_id)
                    )
        run = self.get_run(run_id)
        if run is None:
            raise UserError(f"There is no run '{run_id}' in this workspace; see lstm-core runs.")
        self._mirror(run_id, with_history=run.status.finished)
        return run

    def delete_run(self, run_id: str) -> None:
        """Its epochs, trials and row, in one transaction; refused while it is active."""
        with self._write() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is not None and RunStatus(row["status"]).active:
                raise InvalidTransition(f"run {run_id} is {row['status']}")
            _delete_run_rows(db, run_id)

    def drop_rows(self, table: str, rowids: list[int]) -> None:
        """Remove rows by their place, for damaged rows whose keys cannot be read."""
        if table not in ("runs", "trials", "datasets", "epochs"):
            raise ValueError(f"no table {table}")
        with self._write() as db:
            db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r,) for r in rowids])

    def restore_run(self, record: ArchivedRun, replace: bool = False) -> None:
        """Put back a run from its folder's record, with its ids (doctor --repair);
        `replace` first removes what the database holds of it (a damaged row).

        A run that was queued or running when its record was written has no worker now: it
        comes back interrupted, ready to be resumed.
        """
        run = record.run
        status, error = run.status, run.error
        if status.active:
            status = RunStatus.INTERRUPTED
            error = "It was going when the database was rebuilt; resume it to finish."
        with self._write() as db:
            if replace:
                _delete_run_rows(db, run.id)
            db.execute(
                "INSERT OR REPLACE INTO runs (id, created_at, dataset_id, spec, status, pid, "
                "heartbeat_at, started_at, finished_at, trials_total, error, traceback, result, "
                "name, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.created_at,
                    run.dataset.id,
                    json.dumps(run.spec.to_dict()),
                    status,
                    run.pid,
                    run.heartbeat_at,
                    run.started_at,
                    run.finished_at or (time.time() if status != run.status else None),
                    run.trials_total,
                    error,
                    run.traceback,
                    None if record.result is None else json.dumps(to_plain(record.result)),
                    run.name,
                    run.note,
                ),
            )
            for t in record.trials:
                db.execute(
                    "INSERT OR REPLACE INTO trials (id, run_id, candidate, round, fold, params, "
                    "n_train, epochs_planned, status, pid, worker, started_at, finished_at, "
                    "progress, score, accuracy) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        t.id,
                        run.id,
                        t.candidate,
                        t.round,
                        t.fold,
                        json.dumps(t.params, sort_keys=True),
                        t.n_train,
                        t.epochs_planned,
                        t.status,
                        t.pid,
                        t.worker,
                        t.started_at,
                        t.finished_at,
                        t.progress,
                        t.score,
                        t.accuracy,
                    ),
                )
            db.executemany(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [epoch_row(e) for e in record.epochs],
            )
        self._mirror(run.id, with_history=bool(record.trials))

    # trials and epochs
    def start_trial(
        self,
        run_id: str,
        *,
        candidate: int,
        round: int,
        fold: int | None,
        params: dict[str, Any],
        n_train: int,
        epochs_planned: int,
        pid: int | None,
        worker: str,
        owner: WorkerIdentity | None = None,
    ) -> int:
        values = (
            run_id,
            candidate,
            round,
            fold,
            json.dumps(params, sort_keys=True),
            n_train,
            epochs_planned,
            TrialStatus.RUNNING,
            pid,
            worker,
            time.time(),
        )
        insert = (
            "INSERT INTO trials (run_id, candidate, round, fold, params, n_train, "
            "epochs_planned, status, pid, worker, started_at) "
        )
        with self._write() as db:
            if owner is None:
                cursor = db.execute(insert + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            else:
                cursor = db.execute(
                    insert + "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                    f"WHERE EXISTS (SELECT 1 FROM runs WHERE id = ? AND {_OWNED})",
                    (*values, run_id, *_owner_args(owner)),
                )
            if not cursor.rowcount:
                raise RunTakenAway(f"run {run_id} is no longer this process's")
            return int(cursor.lastrowid)

    def _trial_write(self, sql: str, args: tuple, owner: WorkerIdentity | None) -> None:
        if owner is not None:
            sql, args = f"{sql} AND {_TRIAL_OWNED}", (*args, *_owner_args(owner))
        with self._write() as db:
            changed = db.execute(sql, args).rowcount
        if owner is not None and not changed:
            raise RunTakenAway("this trial's run is no longer this process's")

    def finish_trial(
        self,
        trial_id: int,
        status: TrialStatus,
        score: float | None = None,
        owner: WorkerIdentity | None = None,
        accuracy: float | None = None,
    ) -> None:
        self._trial_write(
            "UPDATE trials SET status = ?, finished_at = ?, score = ?, accuracy = ?, "
            "progress = CASE WHEN ? = 'completed' THEN 1 ELSE progress END WHERE id = ?",
            (status, time.time(), score, accuracy, status, trial_id),
            owner,
        )

    def set_trial_progress(
        self, trial_id: int, fraction: float, owner: WorkerIdentity | None = None
    ) -> None:
        self._trial_write(
            "UPDATE trials SET progress = ? WHERE id = ?", (fraction, trial_id), owner
        )

    def end_open_trials(self, run_id: str, status: TrialStatus) -> int:
        """Fits left `running` by an earlier attempt of the run; returns how many."""
        with self._write() as db:
            return db.execute(
                "UPDATE trials SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
                (status, time.time(), run_id, TrialStatus.RUNNING),
            ).rowcount

    def trials(self, run_id: str) -> list[Trial]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM trials WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [trial_of(r, number) for number, r in enumerate(rows, start=1)]

    def log_epochs(self, epochs: list[Epoch], owner: WorkerIdentity | None = None) -> None:
        if not epochs:
            return
        rows = [epoch_row(e) for e in epochs]
        with self._write() as db:
            if owner is None:
                db.executemany(
                    "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                return
            owned = (
                "INSERT OR REPLACE INTO epochs SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS "
                f"(SELECT 1 FROM trials WHERE id = ? AND {_TRIAL_OWNED})"
            )
            written = sum(
                db.execute(owned, (*row, row[0], *_owner_args(owner))).rowcount for row in rows
            )
            if written < len(rows):
                raise RunTakenAway("this epoch's run is no longer this process's")

    def epochs(self, run_id: str) -> list[Epoch]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT e.* FROM epochs e JOIN trials t ON t.id = e.trial_id "
                "WHERE t.run_id = ? ORDER BY e.trial_id, e.epoch",
                (run_id,),
            ).fetchall()
        return [epoch_of(r) for r in rows]
