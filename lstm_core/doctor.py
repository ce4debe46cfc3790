"""`lstm-core doctor`: check a workspace, and with `--repair` put back what can be put back.

The run folders are the second copy of the database (`lstm_core.run_files`): a lost,
empty or damaged database is moved aside (never deleted) and rebuilt from them, with every
run, its result and, for completed runs, its fits and epochs. On a healthy database the
doctor looks for runs stuck `running` without a worker, fits left `running` in ended runs,
run folders the database does not know, and datasets that lost their texts.
"""

from __future__ import annotations

import csv
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lstm_core.entities import Dataset, RunStatus, TrialStatus
from lstm_core.errors import UserError
from lstm_core.migrations import SCHEMA_VERSION
from lstm_core.workspace import Workspace

ASIDE_SUFFIX = ".damaged-"


@dataclass
class Checkup:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.remaining


def database_problem(path: Path) -> str | None:
    """One sentence if the database file cannot be trusted; None if it is sound or absent."""
    if not path.exists():
        return None
    if path.stat().st_size == 0:
        return f"The run database {path} is empty (0 bytes)."
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorcode in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return f"The run database {path} cannot be read ({exc})."
        raise UserError(
            f"The run database {path} cannot be checked right now ({exc}); try again when "
            "no run is writing to it."
        ) from None
    if rows != ["ok"]:
        return f"The run database {path} is damaged (integrity check: {rows[0]})."
    if version > SCHEMA_VERSION:
        return f"The run database {path} was written by a newer version of the workbench."
    return None


def examine(workspace: Workspace) -> list[str]:
    """Every problem found, one sentence each; an empty list means all is well."""
    problem = database_problem(workspace.database)
    if problem is not None:
        return [problem]
    folders = _run_folders(workspace)
    if not workspace.database.exists():
        if folders:
            return [f"The run database {workspace.database} is missing; {len(folders)} run "
                    "folder(s) remain."]  # fmt: skip
        return []
    store = workspace.store
    problems = []
    known = {run.id: run for run in store.list_runs(limit=1_000_000)}
    unknown = sorted(set(folders) - set(known))
    if unknown:
        problems.append(
            f"{len(unknown)} run folder(s) have no record in the database: {', '.join(unknown)}."
        )
    for run in known.values():
        owner = run.owner
        stuck = owner is not None and owner.here and not owner.alive()
        if run.status == RunStatus.RUNNING and stuck:
            problems.append(
                f"Run {run.id} is marked running, but its worker (pid {run.pid}) is gone."
            )
        if run.status.finished and any(
            t.status == TrialStatus.RUNNING for t in store.trials(run.id)
        ):
            problems.append(f"Run {run.id} has ended ({run.status}) but lists fits still running.")
    registered = {d.id for d in store.list_datasets()}
    for dataset_id in sorted(registered):
        if not (workspace.dataset_dir(dataset_id) / "data.csv").exists():
            problems.append(
                f"Dataset {dataset_id} has lost its texts (data.csv); runs on it cannot resume."
            )
    for dataset_id in sorted(_dataset_folders(workspace) - registered):
        problems.append(f"Dataset folder {dataset_id} has no record in the database.")
    return problems


def repair(workspace: Workspace) -> Checkup:
    """Fix what can be fixed; returns what was found, what was done and what is left."""
    checkup = Checkup(problems=examine(workspace))
    if not checkup.problems:
        return checkup
    database = workspace.database
    if database_problem(database) is not None or not database.exists():
        if database.exists():
            aside = _move_aside(database)
            checkup.repaired.append(f"Moved the damaged database aside to {aside}.")
        checkup.repaired += _rebuild(workspace)
    else:
        checkup.repaired += _mend(workspace)
    checkup.remaining = examine(Workspace(workspace.root))
    return checkup


def _run_folders(workspace: Workspace) -> list[str]:
    runs = workspace.root / "runs"
    return sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


def _dataset_folders(workspace: Workspace) -> set[str]:
    folders = workspace.root / "datasets"
    return (
        {p.name for p in folders.iterdir() if (p / "data.csv").exists()}
        if folders.is_dir()
        else set()
    )


def _move_aside(database: Path) -> Path:
    aside = database.with_name(database.name + ASIDE_SUFFIX + time.strftime("%Y%m%d-%H%M%S"))
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(database) + suffix)
        if part.exists():
            part.rename(Path(str(aside) + suffix))
    return aside


def _rebuild(workspace: Workspace) -> list[str]:
    """A new database from the folders' records."""
    fresh = Workspace(workspace.root)
    done = _register_datasets(fresh)
    records = fresh.archive.runs()
    for record in records:
        fresh.store.restore_run(record)
    done.append(f"Rebuilt the database from the folders: {len(records)} run(s).")
    skipped = sorted(set(_run_folders(fresh)) - {r.run.id for r in records})
    if skipped:
        done.append(
            f"{len(skipped)} run folder(s) had no record to rebuild from: {', '.join(skipped)} "
            "(their models stay in their bundle folders)."
        )
    return done


def _mend(workspace: Workspace) -> list[str]:
    """Repairs on a sound database."""
    from lstm_core import jobs

    store, done = workspace.store, []
    done += _register_datasets(workspace)
    known = {run.id for run in store.list_runs(limit=1_000_000)}
    for record in workspace.archive.runs():
        if record.run.id not in known:
            store.restore_run(record)
            done.append(f"Put back run {record.run.id} from its folder.")
    for run_id in jobs.reap(workspace):
        done.append(f"Marked run {run_id} interrupted: its worker is gone.")
    for run in store.list_runs(limit=1_000_000):
        if run.status.finished:
            ended = store.end_open_trials(run.id, TrialStatus.INTERRUPTED)
            if ended:
                done.append(f"Ended {ended} fit(s) left running in run {run.id}.")
    return done


def _register_datasets(workspace: Workspace) -> list[str]:
    """Datasets whose folder holds texts but whose record is missing."""
    store, done = workspace.store, []
    registered = {d.id for d in store.list_datasets()}
    described = {d.id: d for d in workspace.archive.datasets()}
    for dataset_id in sorted(_dataset_folders(workspace) - registered):
        dataset = described.get(dataset_id) or _describe(workspace, dataset_id)
        store.add_dataset(dataset)
        done.append(f"Put back dataset {dataset_id} ({dataset.name}).")
    return done


def _describe(workspace: Workspace, dataset_id: str) -> Dataset:
    """A dataset record rebuilt from its texts alone (column names from a run that used it)."""
    with open(workspace.dataset_dir(dataset_id) / "data.csv", encoding="utf-8", newline="") as f:
        labels = [row[1] for row in list(csv.reader(f))[1:]]
    text_column, label_column = "text", "label"
    for record in workspace.archive.runs():
        if record.run.spec.dataset_id == dataset_id:
            text_column, label_column = record.run.spec.text_column, record.run.spec.label_column
    return Dataset(
        dataset_id,
        f"dataset {dataset_id}",
        text_column,
        label_column,
        len(labels),
        dict(sorted(Counter(labels).items())),
    )
