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
from lstm_core.store.backend import StorePlace
from lstm_core.store.backends import sqlite
from lstm_core.store.run_files import RunArchive
from lstm_core.store.run_store import RunStore

STORE_URL_VARIABLE = "LSTM_CORE_STORE_URL"
# scheme -> the place (to check, or open as a backend) named by what follows "scheme://"
BACKENDS: dict[str, Callable[[str], StorePlace]] = {"sqlite": sqlite.place}
# schemes whose store is one file, reached as a file by what works on it directly (tests)
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


def store_place(url: str) -> StorePlace:
    """Where the store behind `url` lives, not yet opened (`doctor`, the writer's name)."""
    scheme, location = _split(url)
    return BACKENDS[scheme](location)


def open_store(url: str, archive: RunArchive | None = None) -> RunStore:
    """The run store behind `url`, with its runs' records copied into `archive`."""
    return RunStore(store_place(url).open(), archive)


def database_file(url: str) -> Path:
    """The file behind a store URL, for what works on the file itself."""
    scheme, location = _split(url)
    if scheme not in FILE_PATHS:
        raise UserError(f"The store {url!r} is not a file.")
    return FILE_PATHS[scheme](location)
