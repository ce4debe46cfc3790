"""How the run store's failures read: its exceptions, and SQLite's errors as one sentence.

SQLite's errors are translated here and nowhere else (`storage_error`): a full disk, a
busy workspace (naming the process that holds the write lock, `lstm_core.store.lock_holder`),
a damaged or missing file, a read-only folder.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from lstm_core.domain.errors import DiskFull, UserError
from lstm_core.store.lock_holder import LockHolder, write_lock_holder

FULL_BELOW_BYTES = 1024 * 1024  # a disk with less free space than this counts as full
WRITE_WAIT_S = 30.0  # how long a write waits for a busy writer that is not stopped


class StoreDamaged(UserError):
    """The database file is empty, truncated or corrupt; nothing was changed."""


class RecordDamaged(StoreDamaged):
    """One row holds a value that cannot be read back (a damaged byte inside it)."""

    def __init__(self, record: str, field: str, reason: str, run_id: str | None = None):
        self.problem = f"The record of {record} is damaged: its {field} cannot be read ({reason})."
        super().__init__(
            f"{self.problem} Nothing was changed; run `lstm-core doctor --repair` to rebuild "
            "it from the run folders."
        )
        self.run_id = run_id


class ReadOnlyWorkspace(UserError):
    """A write was asked of a workspace this process cannot write."""


class WorkspaceBusy(UserError):
    """Another process holds the write lock and did not let go in time (or is stopped)."""


def busy_sentence(path: Path, holder: LockHolder | None) -> str:
    if holder is None:
        return (
            f"The workspace is busy: another process has held the write lock of {path} for "
            f"over {WRITE_WAIT_S:.0f} s; try again when it has finished."
        )
    if holder.stopped:
        return (
            f"The workspace is busy: {holder.describe()} while it holds the write lock of "
            f"{path}; continue it (kill -CONT {holder.pid}) or end it, then try again."
        )
    return (
        f"The workspace is busy: {holder.describe()} and did not let go within "
        f"{WRITE_WAIT_S:.0f} s; try again when it has finished."
    )


def repair_hint(path: Path, reason: str) -> str:
    return (
        f"The run database {path} is damaged ({reason}); nothing was changed. "
        "Run `lstm-core doctor --repair` to rebuild it from the run folders."
    )


def is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    ) or "database is locked" in str(exc)


def out_of_space(path: Path, exc: sqlite3.Error) -> bool:
    """SQLite says "disk is full" when a write fails, "disk I/O error" when it cannot even
    map its shared-memory file: the latter only counts when the disk is indeed full."""
    if "disk is full" in str(exc):
        return True
    if "disk I/O error" not in str(exc):
        return False
    try:
        return shutil.disk_usage(path.parent).free < FULL_BELOW_BYTES
    except OSError:
        return False


def storage_error(path: Path, exc: sqlite3.Error) -> Exception:
    """SQLite's error as the one sentence a person reads (the only place they are
    translated); an error that says nothing about the workspace is returned as it is."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or out_of_space(path, exc):
        return DiskFull(
            f"The disk of the workspace ({path.parent}) is full; free some space, then try again."
        )
    if is_busy(exc):
        return WorkspaceBusy(busy_sentence(path, write_lock_holder(path)))
    if not path.exists():
        return StoreDamaged(repair_hint(path, "the file is missing"))
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreDamaged(repair_hint(path, str(exc)))
    if code == sqlite3.SQLITE_READONLY:
        return ReadOnlyWorkspace(
            f"The workspace {path.parent} cannot be written here ({exc}); runs can be listed "
            "and models used, but nothing can be changed."
        )
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return UserError(
            f"The run database {path} cannot be opened or written ({exc}); check the disk "
            "and the folder's permissions, then try again."
        )
    return exc
