"""The SQLite backend's rows: the SQL that reads and writes them, and nothing it decides.

Every statement runs on the connection it is given (inside the backend's transaction for a
write); values are read back through `store_rows`, which names a damaged one.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from lstm_core.domain.entities import Dataset, Epoch, Run, RunResult, RunStatus, Trial, TrialStatus
from lstm_core.domain.plain import to_plain
from lstm_core.store.backend import (
    DATASET_CHANGES,
    RUN_CHANGES,
    TRIAL_CHANGES,
    DamagedRecord,
    Rows,
)
from lstm_core.store.fit_counts import FitTally
from lstm_core.store.lifecycle import RunState
from lstm_core.store.store_errors import RecordDamaged
from lstm_core.store.store_rows import (
    Record,
    dataset_of,
    epoch_of,
    epoch_row,
    result_of,
    run_of,
    trial_of,
)

_RUN_COLUMNS = (
    "r.id, r.created_at, r.dataset_id, r.spec, r.status, r.pid, r.heartbeat_at, r.started_at, "
    "r.finished_at, r.trials_total, r.error, r.traceback, r.worker_host, r.worker_start, "
    "r.name, r.note, "
    "d.name AS d_name, d.text_column AS d_text, d.label_column AS d_label, d.rows AS d_rows, "
    "d.class_counts AS d_counts, d.created_at AS d_created, d.note AS d_note"
)
_RUNS_FROM = "runs r LEFT JOIN datasets d ON d.id = r.dataset_id"
_TRIAL_COLUMNS = (
    "run_id, candidate, round, fold, params, n_train, epochs_planned, status, pid, worker, "
    "started_at, finished_at, progress, score, accuracy"
)
_TABLES = ("runs", "trials", "datasets", "epochs")


def _stored(name: str, value: Any) -> Any:
    """A field's value as its column keeps it."""
    if name == "result":
        return None if value is None else json.dumps(to_plain(value))
    if name == "cancel_requested":
        return int(bool(value))
    return value


class SQLiteRows(Rows):
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def _update(self, table: str, allowed: frozenset, key: Any, changes: dict) -> None:
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"{table} have no field(s) {sorted(unknown)} to change")
        if changes:
            sets = ", ".join(f"{name} = ?" for name in changes)
            values = [_stored(name, value) for name, value in changes.items()]
            self.db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values, key))

    # runs
    def _runs(self, where: str = "", args: tuple = (), tail: str = "") -> list[Run]:
        rows = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM {_RUNS_FROM} {where} {tail}", args)
        return [run_of(r) for r in rows.fetchall()]

    def run(self, run_id: str) -> Run | None:
        found = self._runs("WHERE r.id = ?", (run_id,))
        return found[0] if found else None

    def newest_runs(self, limit: int) -> list[Run]:
        return self._runs(tail="ORDER BY r.created_at DESC, r.id DESC LIMIT ?", args=(limit,))

    def runs_with_status(self, status: RunStatus) -> list[Run]:
        return self._runs("WHERE r.status = ?", (status,), "ORDER BY r.created_at")

    def run_ids(self, status: RunStatus | None = None, dataset_id: str | None = None) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM runs WHERE (? IS NULL OR status = ?) "
            "AND (? IS NULL OR dataset_id = ?) ORDER BY created_at, id",
            (status, status, dataset_id, dataset_id),
        )
        return [r["id"] for r in rows.fetchall()]

    def run_state(self, run_id: str) -> RunState | None:
        row = self.db.execute(
            "SELECT id, status, pid, worker_host, worker_start FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return None
        r = Record(row, f"run {run_id}", run_id)
        return RunState(
            r.status("status", RunStatus), r["pid"], r["worker_host"], r["worker_start"]
        )

    def fit_tallies(self, run_ids: list[str]) -> dict[str, list[FitTally]]:
        rows = self.db.execute(
            "SELECT run_id, candidate, fold IS NULL AS refit, status, COUNT(*) AS n "
            "FROM trials WHERE run_id IN (SELECT value FROM json_each(?)) "
            "GROUP BY run_id, candidate, refit, status",
            (json.dumps(run_ids),),
        )
        found: dict[str, list[FitTally]] = {}
        for r in rows.fetchall():
            tally = FitTally(r["candidate"], bool(r["refit"]), r["status"], r["n"])
            found.setdefault(r["run_id"], []).append(tally)
        return found

    def result(self, run_id: str) -> RunResult | None:
        row = self.db.execute("SELECT id, result FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else result_of(row)

    def cancel_requested(self, run_id: str) -> bool:
        row = self.db.execute(
            "SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return bool(row and row[0])

    def insert_run(self, run: Run, result: RunResult | None = None, replace: bool = False) -> None:
        self.db.execute(
            f"INSERT {'OR REPLACE ' if replace else ''}INTO runs (id, created_at, dataset_id, "
            "spec, status, pid, heartbeat_at, started_at, finished_at, trials_total, error, "
            "traceback, result, worker_host, worker_start, name, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.id,
                run.created_at,
                run.dataset.id,
                json.dumps(run.spec.to_dict()),
                run.status,
                run.pid,
                run.heartbeat_at,
                run.started_at,
                run.finished_at,
                run.trials_total,
                run.error,
                run.traceback,
                _stored("result", result),
                run.worker_host,
                run.worker_start,
                run.name,
                run.note,
            ),
        )

    def update_run(self, run_id: str, **changes: Any) -> None:
        self._update("runs", RUN_CHANGES, run_id, changes)

    def delete_run(self, run_id: str) -> None:
        self.db.execute(
            "DELETE FROM epochs WHERE trial_id IN (SELECT id FROM trials WHERE run_id = ?)",
            (run_id,),
        )
        self.db.execute("DELETE FROM trials WHERE run_id = ?", (run_id,))
        self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # fits and epochs
    def trials(self, run_id: str) -> list[Trial]:
        rows = self.db.execute("SELECT * FROM trials WHERE run_id = ? ORDER BY id", (run_id,))
        return [trial_of(r, number) for number, r in enumerate(rows.fetchall(), start=1)]

    def trial_run(self, trial_id: int) -> str | None:
        row = self.db.execute("SELECT run_id FROM trials WHERE id = ?", (trial_id,)).fetchone()
        return None if row is None else row["run_id"]

    def insert_trial(self, trial: Trial, keep_id: bool = False) -> int:
        values = (
            trial.run_id,
            trial.candidate,
            trial.round,
            trial.fold,
            json.dumps(trial.params, sort_keys=True),
            trial.n_train,
            trial.epochs_planned,
            trial.status,
            trial.pid,
            trial.worker,
            trial.started_at,
            trial.finished_at,
            trial.progress,
            trial.score,
            trial.accuracy,
        )
        marks = ", ".join("?" for _ in values)
        if keep_id:
            sql = f"INSERT OR REPLACE INTO trials (id, {_TRIAL_COLUMNS}) VALUES (?, {marks})"
            values = (trial.id, *values)
        else:
            sql = f"INSERT INTO trials ({_TRIAL_COLUMNS}) VALUES ({marks})"
        return int(self.db.execute(sql, values).lastrowid)

    def update_trial(self, trial_id: int, **changes: Any) -> None:
        self._update("trials", TRIAL_CHANGES, trial_id, changes)

    def end_running_trials(self, run_id: str, status: TrialStatus, at: float) -> int:
        return self.db.execute(
            "UPDATE trials SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
            (status, at, run_id, TrialStatus.RUNNING),
        ).rowcount

    def epochs(self, run_id: str) -> list[Epoch]:
        rows = self.db.execute(
            "SELECT e.* FROM epochs e JOIN trials t ON t.id = e.trial_id "
            "WHERE t.run_id = ? ORDER BY e.trial_id, e.epoch",
            (run_id,),
        )
        return [epoch_of(r) for r in rows.fetchall()]

    def insert_epochs(self, epochs: list[Epoch]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [epoch_row(e) for e in epochs],
        )

    # datasets
    def dataset(self, dataset_id: str) -> Dataset | None:
        row = self.db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return None if row is None else dataset_of(row)

    def datasets(self) -> list[Dataset]:
        rows = self.db.execute("SELECT * FROM datasets ORDER BY created_at DESC")
        return [dataset_of(r) for r in rows.fetchall()]

    def insert_dataset(self, dataset: Dataset) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO datasets (id, name, text_column, label_column, rows, "
            "class_counts, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dataset.id,
                dataset.name,
                dataset.text_column,
                dataset.label_column,
                dataset.rows,
                json.dumps(dataset.class_counts),
                dataset.created_at,
                dataset.note,
            ),
        )

    def update_dataset(self, dataset_id: str, **changes: Any) -> None:
        self._update("datasets", DATASET_CHANGES, dataset_id, changes)

    def delete_dataset(self, dataset_id: str) -> None:
        self.db.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    # upkeep
    def damaged_records(self) -> list[DamagedRecord]:
        """Every row read whole (`quick_check` only sees pages, not a damaged byte
        inside a value)."""
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
        for table, sql, build in queries:
            for row in self.db.execute(sql):
                try:
                    build(row)
                except RecordDamaged as exc:
                    found.append(DamagedRecord(table, row["row_id"], exc.run_id, exc.problem))
        return found

    def drop_rows(self, table: str, rowids: list[int]) -> None:
        if table not in _TABLES:
            raise ValueError(f"no table {table}")
        self.db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r,) for r in rowids])
