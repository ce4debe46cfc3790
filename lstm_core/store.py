"""The run store: one SQLite file that worker processes write and the dashboard reads.

WAL mode lets readers and one writer work at once; every write is a short transaction on
its own connection with a busy timeout, so several processes can share the file. Run
status changes only through the event methods below, which refuse impossible transitions.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
    "interrupted",
)
_ALLOWED_FROM = {
    RUNNING: (QUEUED,),
    COMPLETED: (RUNNING,),
    FAILED: (QUEUED, RUNNING),
    CANCELLED: (QUEUED, RUNNING),
    INTERRUPTED: (QUEUED, RUNNING),
}
REFIT_FOLD = -1

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text_column TEXT NOT NULL,
    label_column TEXT NOT NULL,
    rows INTEGER NOT NULL,
    class_counts TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    heartbeat_at REAL,
    started_at REAL,
    finished_at REAL,
    trials_total INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    traceback TEXT,
    result TEXT,
    cv_results TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status, created_at);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id),
    params TEXT NOT NULL,
    fold INTEGER NOT NULL,
    n_train INTEGER NOT NULL,
    epochs_planned INTEGER NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    started_at REAL NOT NULL,
    finished_at REAL,
    batch_progress REAL NOT NULL DEFAULT 0,
    score REAL
);
CREATE INDEX IF NOT EXISTS trials_by_run ON trials(run_id);
CREATE TABLE IF NOT EXISTS epochs (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    epoch INTEGER NOT NULL,
    loss REAL,
    accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    seconds REAL,
    logged_at REAL NOT NULL,
    PRIMARY KEY (trial_id, epoch)
);
"""


def new_run_id() -> str:
    """Sortable by creation time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def _row(row: sqlite3.Row | None) -> dict | None:
    return None if row is None else dict(row)


def _json_columns(record: dict | None, *names: str) -> dict | None:
    if record is not None:
        for name in names:
            if record.get(name) is not None:
                record[name] = json.loads(record[name])
    return record


class InvalidTransition(RuntimeError):
    """A status change that the run's lifecycle does not allow (a bug, or a lost race)."""


class RunStore:
    """Narrow interface over the database: create, change status, log metrics, read."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short immediate transaction: either all of it lands or none."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # datasets
    def add_dataset(
        self,
        dataset_id: str,
        name: str,
        text_column: str,
        label_column: str,
        rows: int,
        class_counts: dict[str, int],
    ) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset_id,
                    name,
                    text_column,
                    label_column,
                    rows,
                    json.dumps(class_counts),
                    time.time(),
                ),
            )

    def get_dataset(self, dataset_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return _json_columns(_row(row), "class_counts")

    def list_datasets(self) -> list[dict]:
        """Newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM datasets ORDER BY created_at DESC").fetchall()
        return [_json_columns(dict(r), "class_counts") for r in rows]

    # runs
    def create_run(
        self,
        spec: dict,
        dataset_id: str,
        trials_total: int | None = None,
        running_pid: int | None = None,
    ) -> str:
        """A queued run, or with `running_pid` one already running in that (foreground) process."""
        run_id, now = new_run_id(), time.time()
        status, started = (QUEUED, None) if running_pid is None else (RUNNING, now)
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, created_at, dataset_id, spec, status, trials_total, pid, "
                "started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    dataset_id,
                    json.dumps(spec),
                    status,
                    trials_total,
                    running_pid,
                    started,
                    started,
                ),
            )
        return run_id

    def _transition(self, run_id: str, status: str, **fields: Any) -> None:
        allowed = _ALLOWED_FROM[status]
        sets = ", ".join(f"{name} = ?" for name in ("status", *fields))
        marks = ", ".join("?" for _ in allowed)
        with self._write() as db:
            changed = db.execute(
                f"UPDATE runs SET {sets} WHERE id = ? AND status IN ({marks})",
                (status, *fields.values(), run_id, *allowed),
            ).rowcount
        if not changed:
            current = self.get_run(run_id)
            now = current["status"] if current else "missing"
            raise InvalidTransition(f"run {run_id} cannot go from {now} to {status}")

    def claim_next(self, max_running: int) -> dict | None:
        """Mark the oldest queued run `running` if fewer than `max_running` are; one transaction.

        The claimed run has no pid until its worker process is attached, so two dispatchers
        can never start more runs than the limit, and a claim whose worker never started is
        found by its stale heartbeat.
        """
        now = time.time()
        with self._write() as db:
            running = db.execute(
                "SELECT COUNT(*) FROM runs WHERE status = ?", (RUNNING,)
            ).fetchone()[0]
            if running >= max_running:
                return None
            row = db.execute(
                "SELECT id FROM runs WHERE status = ? ORDER BY created_at, id LIMIT 1", (QUEUED,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE runs SET status = ?, started_at = ?, heartbeat_at = ? WHERE id = ?",
                (RUNNING, now, now, row["id"]),
            )
        return self.get_run(row["id"])

    def attach_worker(self, run_id: str, pid: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET pid = ?, heartbeat_at = ? WHERE id = ? AND status = ?",
                (pid, time.time(), run_id, RUNNING),
            )

    def set_trials_total(self, run_id: str, trials_total: int) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET trials_total = ? WHERE id = ?", (trials_total, run_id))

    def runs_with_status(self, status: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, pid, heartbeat_at, started_at FROM runs WHERE status = ? ORDER BY created_at",
                (status,),
            ).fetchall()
        return [dict(r) for r in rows]

    def start_run(self, run_id: str, pid: int, trials_total: int) -> None:
        now = time.time()
        self._transition(
            run_id, RUNNING, pid=pid, started_at=now, heartbeat_at=now, trials_total=trials_total
        )

    def heartbeat(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))

    def complete_run(self, run_id: str, result: dict, cv_results: dict) -> None:
        self._transition(
            run_id,
            COMPLETED,
            finished_at=time.time(),
            result=json.dumps(result),
            cv_results=json.dumps(cv_results),
        )

    def fail_run(self, run_id: str, error: str, traceback: str = "") -> None:
        self._transition(run_id, FAILED, finished_at=time.time(), error=error, traceback=traceback)

    def cancel_run(self, run_id: str) -> None:
        self._transition(run_id, CANCELLED, finished_at=time.time())

    def interrupt_run(self, run_id: str, error: str) -> None:
        self._transition(run_id, INTERRUPTED, finished_at=time.time(), error=error)

    def request_cancel(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def get_run(self, run_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _json_columns(_row(row), "spec", "result", "cv_results")

    def list_runs(self, limit: int = 200) -> list[dict]:
        """Newest first, without the bulky result columns."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created_at, dataset_id, spec, status, pid, heartbeat_at, started_at, "
                "finished_at, trials_total, error, "
                "(SELECT COUNT(*) FROM trials t WHERE t.run_id = runs.id AND t.status = 'completed') "
                "AS trials_done FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_json_columns(dict(r), "spec") for r in rows]

    # trials and epochs
    def start_trial(
        self, run_id: str, params: dict, fold: int, n_train: int, epochs_planned: int
    ) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO trials (run_id, params, fold, n_train, epochs_planned, status, pid, "
                "started_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (
                    run_id,
                    json.dumps(params, sort_keys=True),
                    fold,
                    n_train,
                    epochs_planned,
                    os.getpid(),
                    time.time(),
                ),
            )
            return int(cursor.lastrowid)

    def finish_trial(self, trial_id: int, status: str = COMPLETED) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE trials SET status = ?, finished_at = ?, batch_progress = 1 WHERE id = ?",
                (status, time.time(), trial_id),
            )

    def set_batch_progress(self, trial_id: int, fraction: float) -> None:
        with self._write() as db:
            db.execute("UPDATE trials SET batch_progress = ? WHERE id = ?", (fraction, trial_id))

    def set_trial_scores(self, run_id: str, scores: list[tuple[dict, int, float]]) -> None:
        """Attach CV scores to the latest trial of each (params, fold)."""
        with self._write() as db:
            for params, fold, score in scores:
                db.execute(
                    "UPDATE trials SET score = ? WHERE id = (SELECT MAX(id) FROM trials "
                    "WHERE run_id = ? AND params = ? AND fold = ?)",
                    (score, run_id, json.dumps(params, sort_keys=True), fold),
                )

    def log_epoch(
        self, trial_id: int, epoch: int, metrics: dict[str, float], seconds: float
    ) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    trial_id,
                    epoch,
                    metrics.get("loss"),
                    metrics.get("accuracy"),
                    metrics.get("val_loss"),
                    metrics.get("val_accuracy"),
                    seconds,
                    time.time(),
                ),
            )

    def trials(self, run_id: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM trials WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [_json_columns(dict(r), "params") for r in rows]

    def epochs(self, run_id: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT e.* FROM epochs e JOIN trials t ON t.id = e.trial_id "
                "WHERE t.run_id = ? ORDER BY e.trial_id, e.epoch",
                (run_id,),
            ).fetchall()
        return [dict(r) for r in rows]
