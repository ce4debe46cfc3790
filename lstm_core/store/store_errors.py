"""How the run store's failures read, whatever its backend: the store's own exceptions
and their sentences.

A backend says its driver's errors as these (SQLite's: `backends.sqlite_errors`), so nothing
outside the store catches a driver's error: a full disk (`DiskFull`), a busy workspace
(naming the process that holds the write lock, `lstm_core.store.lock_holder`), a damaged or
missing database, a read-only folder, a newer schema, and the rest (`StoreError`).
"""

from __future__ import annotations

from pathlib import Path

from lstm_core.domain.errors import UserError
from lstm_core.store.lock_holder import LockHolder

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


class NewerSchema(UserError):
    """The database was written by a newer version of the workbench."""


class StoreError(RuntimeError):
    """A backend's failure that has no sentence of its own (most likely a bug): it keeps
    the driver's message, never its exception type."""


def busy_sentence(path: Path | str, holder: LockHolder | None) -> str:
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
