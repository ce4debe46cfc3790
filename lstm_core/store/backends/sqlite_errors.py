"""SQLite's errors as the store's own, each one sentence: the only place they are read.

A full disk, a busy workspace (naming the process that holds the write lock), a damaged or
missing file, a read-only folder; anything else is a `StoreError` that keeps SQLite's
message.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from lstm_core.domain.errors import DiskFull, UserError
from lstm_core.store.lock_holder import write_lock_holder
from lstm_core.store.store_errors import (
    ReadOnlyWorkspace,
    StoreDamaged,
    StoreError,
    WorkspaceBusy,
    busy_sentence,
    repair_hint,
)

FULL_BELOW_BYTES = 1024 * 1024  # a disk with less free space than this counts as full


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
    """SQLite's error as the one sentence a person reads; one that says nothing about the
    workspace becomes a `StoreError` with SQLite's message."""
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
    return StoreError(f"The run database {path} failed: {type(exc).__name__}: {exc}")
