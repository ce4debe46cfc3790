"""The SQLite backend: one file in WAL mode that worker processes, the CLI and the dashboard
share (`sqlite:///relative/path.sqlite`, `sqlite:////absolute/path.sqlite`).

Readers never wait on the writer, and every write is a short immediate transaction on its
own connection. Opening and reading take no write lock: a process paused inside a write
(SIGSTOP, a debugger) cannot stop anyone from reading, and a write that meets it ends in
one sentence naming it (`lstm_core.store.lock_holder`). An older schema is migrated in one
explicit step (`upgrade`, `lstm_core.store.migrations.sqlite`), a copy of the file kept
first. A damaged file is reported (`StoreDamaged`), never replaced (`doctor --repair`
moves it aside, `SQLiteFile`); a folder that cannot be written is opened read-only. SQLite's errors leave as the store's own
(`sqlite_errors.storage_error`); the rows are read and written by `sqlite_rows`.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lstm_core.domain.errors import UserError
from lstm_core.store.backend import Backend, StorePlace, Upgraded
from lstm_core.store.backends.sqlite_errors import is_busy, storage_error
from lstm_core.store.backends.sqlite_rows import SQLiteRows
from lstm_core.store.lock_holder import LockHolder, write_lock_holder
from lstm_core.store.migrations.sqlite import (
    ARCHIVED_SINCE,
    SCHEMA_VERSION,
    schema_version,
    upgrade,
)
from lstm_core.store.store_errors import (
    WRITE_WAIT_S,
    NewerSchema,
    ReadOnlyWorkspace,
    StoreDamaged,
    WorkspaceBusy,
    busy_sentence,
    repair_hint,
)
from lstm_core.store.store_rows import text_value

READ_WAIT_S = 5.0  # WAL readers never wait on a writer; this only covers a checkpoint
LOCK_LOOK_S = 0.5  # how often a waiting write looks at who holds the lock
ASIDE_SUFFIX = ".damaged-"  # a damaged file moved aside: runs.sqlite.damaged-<time>


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


def database_path(location: str) -> Path:
    """The file a URL names after `sqlite://`, read as SQLAlchemy reads it: `/runs.sqlite`
    relative to the current folder, `//srv/runs.sqlite` absolute."""
    path = location.split("?", 1)[0]
    if not path.startswith("/") or len(path) < 2:
        raise UserError(
            f"The store URL sqlite://{location} names no file; give one like "
            "sqlite:////home/me/runs.sqlite."
        )
    return Path(path[1:]).expanduser().absolute()


def place(location: str) -> SQLiteFile:
    return SQLiteFile(database_path(location))


class SQLiteFile(StorePlace):
    """The database file with its `-wal` and `-shm` companions, before it is opened."""

    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)

    def open(self) -> SQLiteBackend:
        return SQLiteBackend(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def writer(self) -> LockHolder | None:
        return write_lock_holder(self.path)

    def problem(self) -> str | None:
        """Only reads: it answers while a writer holds the lock, on a read-only mount and on
        a full disk (what stops it from reading at all is raised as its own sentence)."""
        path = self.path
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

    def move_aside(self) -> str:
        """`runs.sqlite.damaged-20250101-120000`, its `-wal` and `-shm` beside it."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}{ASIDE_SUFFIX}{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.rename(Path(f"{aside}{suffix}"))
        return str(aside)


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    return os.access(parent, os.W_OK)


class SQLiteBackend(Backend):
    def __init__(self, path: str | os.PathLike):
        """Open without writing: a file of today's schema is only read until a write is
        asked; an older one is marked `outdated` (the store upgrades it first), a missing
        one is created by the first write of a workspace that never had one."""
        self.path = Path(path)
        self.location = str(self.path)
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
        if version < SCHEMA_VERSION and self.read_only:
            raise ReadOnlyWorkspace(
                f"The run database {self.path} was written by another version of the "
                "workbench and cannot be upgraded here, where it is read-only."
            )
        self.outdated = version < SCHEMA_VERSION

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def reading(self) -> Iterator[SQLiteRows]:
        with self._connect() as db:
            yield SQLiteRows(db)

    @contextmanager
    def writing(self) -> Iterator[SQLiteRows]:
        if self.read_only:
            raise ReadOnlyWorkspace(
                f"The workspace {self.path.parent} is read-only here; runs can be listed and "
                "models used, but nothing can be changed."
            )
        with self._transaction() as db:
            yield SQLiteRows(db)

    def upgrade(self) -> Upgraded:
        """The one step that writes before anything is asked (a new workspace's first
        write, or an older file's first open); an older file is copied aside first."""
        if not self.path.exists() and self._create_whole():
            self.outdated = False
            return Upgraded(0, False)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            if 0 < schema_version(db) < SCHEMA_VERSION:
                self._keep_a_copy(db)
        with self._transaction() as db:
            found = upgrade(db)
        self.outdated = False
        return Upgraded(found, 0 < found < ARCHIVED_SINCE)

    def _create_whole(self) -> bool:
        """Create the file whole: its schema is written under a name of this process's
        own, then linked into place, so a reader polling for the workspace never opens an
        empty or half-made file. False when another process linked its file first (that
        one is kept)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f"{self.path.name}.new-{os.getpid()}")
        try:
            db = sqlite3.connect(scratch, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("BEGIN IMMEDIATE")
                upgrade(db)
                db.execute("COMMIT")
            finally:
                db.close()  # the last connection: the log is folded into the file
            os.link(scratch, self.path)
            return True
        except FileExistsError:
            return False
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc) from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{scratch}{suffix}").unlink(missing_ok=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite's errors become the store's own. Before a workspace's first
        write there is no file: reads then see an empty schema in memory, and nothing is
        created."""
        try:
            if not self.path.exists():
                db = sqlite3.connect(":memory:", isolation_level=None)
                upgrade(db)
            elif self.read_only:
                db = _read_only_connection(self.path)
            else:  # mode=rw: a database that vanished is an error, not a new empty file
                db = sqlite3.connect(
                    f"file:{self.path}?mode=rw",
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
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short immediate transaction: either all of it lands or none."""
        with self._connect() as db:
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
