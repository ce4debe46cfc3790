"""Which store a workspace uses, chosen by a URL: `sqlite:////path/to/runs.sqlite`.

By default the workspace's own `runs.sqlite`; `$LSTM_CORE_STORE_URL` puts it elsewhere.
Each backend is registered here by its URL scheme: another (PostgreSQL, say) is one
module in `store.backends`, its migrations in `store.migrations`, and one line in
`BACKENDS`. Everything above the rows (transitions, ownership, counts, copies in run
folders) is the same `RunStore` whatever the scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lstm_core.domain.errors import UserError
from lstm_core.store.backend import Backend
from lstm_core.store.backends import sqlite
from lstm_core.store.run_files import RunArchive
from lstm_core.store.run_store import RunStore

STORE_URL_VARIABLE = "LSTM_CORE_STORE_URL"
# scheme -> the backend opened on what follows "scheme://"
BACKENDS: dict[str, Callable[[str], Backend]] = {"sqlite": sqlite.open_backend}
# schemes whose store is one file (what `doctor` checks, moves aside and rebuilds)
FILE_PATHS: dict[str, Callable[[str], Path]] = {"sqlite": sqlite.database_path}


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file (an absolute path gives the four slashes)."""
    return f"sqlite:///{Path(path).absolute()}"


def _split(url: str) -> tuple[str, str]:
    scheme, separator, location = url.partition("://")
    if not separator or scheme.lower() not in BACKENDS:
        raise UserError(
            f"The store URL {url!r} names no store this workbench knows; it knows "
            f"{', '.join(f'{s}://' for s in BACKENDS)} (e.g. sqlite:////home/me/runs.sqlite)."
        )
    return scheme.lower(), location


def open_store(url: str, archive: RunArchive | None = None) -> RunStore:
    """The run store behind `url`, with its runs' records copied into `archive`."""
    scheme, location = _split(url)
    return RunStore(BACKENDS[scheme](location), archive)


def database_file(url: str) -> Path:
    """The file behind a store URL, for `doctor` and the write-lock holder."""
    scheme, location = _split(url)
    if scheme not in FILE_PATHS:
        raise UserError(f"The store {url!r} is not a file; `doctor` checks only file stores.")
    return FILE_PATHS[scheme](location)
