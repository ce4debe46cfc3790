"""`lstm-core doctor`: check a workspace, and with `--repair` put back what can be put back.

The run folders are the second copy of the database (`lstm_core.store.run_files`): a lost,
empty or damaged database is moved aside (never deleted) and rebuilt from them, with every
run, its result and, for completed runs, its fits and epochs. On a healthy database the
doctor looks for runs stuck `running` without a worker, fits left `running` in ended runs,
run folders the database does not know, and datasets that lost their texts.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field

from lstm_core.domain.entities import Dataset, RunStatus, TrialStatus
from lstm_core.jobs.dispatch import reap
from lstm_core.store.workspace import Workspace


@dataclass
class Checkup:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.remaining


def examine(workspace: Workspace) -> list[str]:
    """Every problem found, one sentence each; an empty list means all is well.

    Only reads, so it answers while a writer holds the lock (and names one that is
    stopped, since it will not let go by itself).
    """
    place = workspace.store_place
    problem = place.problem()
    if problem is not None:
        return [problem]
    folders = _run_folders(workspace)
    if not place.exists():
        if folders:
            return [f"The run database {place.location} is missing; {len(folders)} run "
                    "folder(s) remain."]  # fmt: skip
        return []
    store = workspace.store
    problems = []
    stopped = place.stopped_writer()
    if stopped is not None:
        problems.append(stopped)
    damaged = store.damaged_records()
    if damaged:  # the rest reads whole records: first these are rebuilt
        return problems + [record.sentence for record in damaged]
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
        lost = workspace.files_problem(run)
        if lost is not None:
            problems.append(lost)
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
    place = workspace.store_place
    if place.stopped_writer() is not None:  # every repair would wait on it: say so
        checkup.remaining = list(checkup.problems)
        return checkup
    if place.problem() is not None or not place.exists():
        if place.exists():
            aside = place.move_aside()
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


def _rebuild(workspace: Workspace) -> list[str]:
    """A new database from the folders' records."""
    fresh = Workspace(workspace.root)
    fresh.store.upgrade(anew=True)
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
    store = workspace.store
    done = _rebuild_damaged(workspace)
    if store.damaged_records():  # records with no copy to rebuild from stay as they are
        return done
    done += _register_datasets(workspace)
    known = {run.id for run in store.list_runs(limit=1_000_000)}
    for record in workspace.archive.runs():
        if record.run.id not in known:
            store.restore_run(record)
            done.append(f"Put back run {record.run.id} from its folder.")
    for run_id in reap(workspace):
        done.append(f"Marked run {run_id} interrupted: its worker is gone.")
    for run in store.list_runs(limit=1_000_000):
        if run.status.finished:
            ended = store.end_open_trials(run.id, TrialStatus.INTERRUPTED)
            if ended:
                done.append(f"Ended {ended} fit(s) left running in run {run.id}.")
        if not workspace.run_dir(run.id).is_dir() and not run.status.active:
            store.archive_run(run.id)
            done.append(
                f"Wrote run {run.id}'s record into a new folder; what was in the old one "
                "(its model, its logs) cannot be brought back."
            )
    return done


def _rebuild_damaged(workspace: Workspace) -> list[str]:
    """Rows that cannot be read back: a run with a copy in its folder is rebuilt whole
    from it; a row whose owner cannot even be read is removed (its folder's copy, if any,
    is then put back as a run the database does not know)."""
    store, done = workspace.store, []
    copies = {record.run.id: record for record in workspace.archive.runs()}
    datasets = {dataset.id: dataset for dataset in workspace.archive.datasets()}
    damaged = store.damaged_records()
    for run_id in sorted({d.run_id for d in damaged if d.run_id in copies}):
        store.restore_run(copies[run_id], replace=True)
        done.append(f"Rebuilt run {run_id} from its folder (its record was damaged).")
    for record in damaged:
        if record.run_id in copies:
            continue
        if record.table == "datasets" or record.run_id is None:
            store.drop_rows(record.table, [record.rowid])
            done.append(f"Removed an unreadable record ({record.sentence})")
    for dataset in datasets.values():  # a dataset row removed above comes back whole
        if store.get_dataset(dataset.id) is None:
            store.add_dataset(dataset)
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
