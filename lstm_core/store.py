"""The run store: a narrow interface, and the SQLite file that worker processes share.

`RunStore` is the interface the engine uses (create a run, change its status through event
methods that refuse impossible transitions, log epochs in batches, read entities back).
`SQLiteRunStore` implements it on one file in WAL mode: readers and one writer work at
once, and every write is a short transaction on its own connection with a busy timeout, so
several processes can share the file. Opening a database of an older schema migrates it
(`lstm_core.migrations`).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lstm_core.entities import (
    Dataset,
    Epoch,
    Run,
    RunResult,
    RunStatus,
    Trial,
    TrialStatus,
    from_plain,
    to_plain,
)
from lstm_core.migrations import upgrade
from lstm_core.spec import ExperimentSpec

_ALLOWED_FROM = {
    RunStatus.RUNNING: (RunStatus.QUEUED,),
    RunStatus.COMPLETED: (RunStatus.RUNNING,),
    RunStatus.FAILED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.CANCELLED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.INTERRUPTED: (RunStatus.QUEUED, RunStatus.RUNNING),
    RunStatus.QUEUED: (RunStatus.CANCELLED, RunStatus.INTERRUPTED, RunStatus.FAILED),
}
# When a run ends, the fits it still had running end with it, in the matching state.
_TRIALS_ENDING_AS = {
    RunStatus.FAILED: TrialStatus.FAILED,
    RunStatus.CANCELLED: TrialStatus.CANCELLED,
    RunStatus.INTERRUPTED: TrialStatus.INTERRUPTED,
}


def new_run_id() -> str:
    """Sortable by creation time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class InvalidTransition(RuntimeError):
    """A status change that the run's lifecycle does not allow (a bug, or a lost race)."""


class RunStore(ABC):
    """What the engine needs from a store; SQLite sits behind it here."""

    # datasets
    @abstractmethod
    def add_dataset(self, dataset: Dataset) -> None: ...

    @abstractmethod
    def get_dataset(self, dataset_id: str) -> Dataset | None: ...

    @abstractmethod
    def list_datasets(self) -> list[Dataset]: ...

    @abstractmethod
    def runs_of_dataset(self, dataset_id: str) -> list[str]: ...

    @abstractmethod
    def delete_dataset(self, dataset_id: str) -> None: ...

    # runs
    @abstractmethod
    def create_run(
        self, spec: ExperimentSpec, trials_total: int, running_pid: int | None = None
    ) -> str: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    def list_runs(self, limit: int = 200) -> list[Run]: ...

    @abstractmethod
    def runs_with_status(self, status: RunStatus) -> list[Run]: ...

    @abstractmethod
    def claim_next(self, max_running: int) -> Run | None: ...

    @abstractmethod
    def attach_worker(self, run_id: str, pid: int) -> None: ...

    @abstractmethod
    def start_run(self, run_id: str, pid: int, trials_total: int) -> None: ...

    @abstractmethod
    def heartbeat(self, run_id: str) -> None: ...

    @abstractmethod
    def complete_run(self, run_id: str, result: RunResult) -> None: ...

    @abstractmethod
    def fail_run(self, run_id: str, error: str, traceback: str = "") -> None: ...

    @abstractmethod
    def cancel_run(self, run_id: str) -> None: ...

    @abstractmethod
    def interrupt_run(self, run_id: str, error: str) -> None: ...

    @abstractmethod
    def requeue_run(self, run_id: str) -> None: ...

    @abstractmethod
    def request_cancel(self, run_id: str) -> None: ...

    @abstractmethod
    def cancel_requested(self, run_id: str) -> bool: ...

    @abstractmethod
    def get_result(self, run_id: str) -> RunResult | None: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    # trials and epochs
    @abstractmethod
    def start_trial(
        self,
        run_id: str,
        *,
        candidate: int,
        round: int,
        fold: int | None,
        params: dict[str, Any],
        n_train: int,
        epochs_planned: int,
        pid: int | None,
        worker: str,
    ) -> int: ...

    @abstractmethod
    def finish_trial(
        self, trial_id: int, status: TrialStatus, score: float | None = None
    ) -> None: ...

    @abstractmethod
    def set_trial_progress(self, trial_id: int, fraction: float) -> None: ...

    @abstractmethod
    def end_open_trials(self, run_id: str, status: TrialStatus) -> int: ...

    @abstractmethod
    def trials(self, run_id: str) -> list[Trial]: ...

    @abstractmethod
    def log_epochs(self, epochs: list[Epoch]) -> None: ...

    @abstractmethod
    def epochs(self, run_id: str) -> list[Epoch]: ...


_RUN_COLUMNS = (
    "r.id, r.created_at, r.dataset_id, r.spec, r.status, r.pid, r.heartbeat_at, r.started_at, "
    "r.finished_at, r.trials_total, r.error, r.traceback, "
    "d.name AS d_name, d.text_column AS d_text, d.label_column AS d_label, d.rows AS d_rows, "
    "d.class_counts AS d_counts, d.created_at AS d_created, "
    "(SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id AND t.status = 'completed') "
    "AS trials_done"
)
_RUNS_FROM = "runs r LEFT JOIN datasets d ON d.id = r.dataset_id"


def _dataset(row: sqlite3.Row) -> Dataset:
    return Dataset(
        id=row["id"],
        name=row["name"],
        text_column=row["text_column"],
        label_column=row["label_column"],
        rows=row["rows"],
        class_counts=json.loads(row["class_counts"]),
        created_at=row["created_at"],
    )


def _run(row: sqlite3.Row) -> Run:
    spec = ExperimentSpec.from_dict(json.loads(row["spec"]))
    if row["d_name"] is None:  # its dataset was deleted after the run ended
        dataset = Dataset(
            row["dataset_id"], "(deleted dataset)", spec.text_column, spec.label_column, 0
        )
    else:
        dataset = Dataset(
            id=row["dataset_id"],
            name=row["d_name"],
            text_column=row["d_text"],
            label_column=row["d_label"],
            rows=row["d_rows"],
            class_counts=json.loads(row["d_counts"]),
            created_at=row["d_created"],
        )
    return Run(
        id=row["id"],
        created_at=row["created_at"],
        status=RunStatus(row["status"]),
        spec=spec,
        dataset=dataset,
        pid=row["pid"],
        heartbeat_at=row["heartbeat_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        trials_done=row["trials_done"],
        trials_total=row["trials_total"],
        error=row["error"],
        traceback=row["traceback"],
    )


def _trial(row: sqlite3.Row) -> Trial:
    return Trial(
        id=row["id"],
        run_id=row["run_id"],
        candidate=row["candidate"],
        round=row["round"],
        fold=row["fold"],
        params=json.loads(row["params"]),
        n_train=row["n_train"],
        epochs_planned=row["epochs_planned"],
        status=TrialStatus(row["status"]),
        started_at=row["started_at"],
        pid=row["pid"],
        worker=row["worker"],
        finished_at=row["finished_at"],
        progress=row["progress"],
        score=row["score"],
    )


def _epoch(row: sqlite3.Row) -> Epoch:
    return Epoch(**dict(row))


class SQLiteRunStore(RunStore):
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        with self._write() as db:
            upgrade(db)

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
    def add_dataset(self, dataset: Dataset) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset.id,
                    dataset.name,
                    dataset.text_column,
                    dataset.label_column,
                    dataset.rows,
                    json.dumps(dataset.class_counts),
                    dataset.created_at or time.time(),
                ),
            )

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        return None if row is None else _dataset(row)

    def list_datasets(self) -> list[Dataset]:
        """Newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM datasets ORDER BY created_at DESC").fetchall()
        return [_dataset(r) for r in rows]

    def runs_of_dataset(self, dataset_id: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id FROM runs WHERE dataset_id = ? ORDER BY created_at", (dataset_id,)
            ).fetchall()
        return [r["id"] for r in rows]

    def delete_dataset(self, dataset_id: str) -> None:
        """Refused (InvalidTransition) while any run refers to it; checked in the same write."""
        with self._write() as db:
            used = db.execute(
                "SELECT COUNT(*) FROM runs WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()[0]
            if used:
                raise InvalidTransition(f"dataset {dataset_id} is used by {used} run(s)")
            db.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    # runs
    def create_run(
        self, spec: ExperimentSpec, trials_total: int, running_pid: int | None = None
    ) -> str:
        """A queued run, or with `running_pid` one already running in that (foreground) process."""
        run_id, now = new_run_id(), time.time()
        status, started = (
            (RunStatus.QUEUED, None) if running_pid is None else (RunStatus.RUNNING, now)
        )
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, created_at, dataset_id, spec, status, trials_total, pid, "
                "started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    spec.dataset_id,
                    json.dumps(spec.to_dict()),
                    status,
                    trials_total,
                    running_pid,
                    started,
                    started,
                ),
            )
        return run_id

    def _select_runs(self, where: str = "", args: tuple = (), tail: str = "") -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM {_RUNS_FROM} {where} {tail}", args
            ).fetchall()
        return [_run(r) for r in rows]

    def get_run(self, run_id: str) -> Run | None:
        found = self._select_runs("WHERE r.id = ?", (run_id,))
        return found[0] if found else None

    def list_runs(self, limit: int = 200) -> list[Run]:
        """Newest first."""
        return self._select_runs(
            tail="ORDER BY r.created_at DESC, r.id DESC LIMIT ?", args=(limit,)
        )

    def runs_with_status(self, status: RunStatus) -> list[Run]:
        return self._select_runs("WHERE r.status = ?", (status,), "ORDER BY r.created_at")

    def _transition(self, run_id: str, status: RunStatus, **fields: Any) -> None:
        allowed = _ALLOWED_FROM[status]
        sets = ", ".join(f"{name} = ?" for name in ("status", *fields))
        marks = ", ".join("?" for _ in allowed)
        with self._write() as db:
            changed = db.execute(
                f"UPDATE runs SET {sets} WHERE id = ? AND status IN ({marks})",
                (status, *fields.values(), run_id, *allowed),
            ).rowcount
            if changed and status in _TRIALS_ENDING_AS:
                db.execute(
                    "UPDATE trials SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
                    (_TRIALS_ENDING_AS[status], time.time(), run_id, TrialStatus.RUNNING),
                )
        if not changed:
            current = self.get_run(run_id)
            now = current.status if current else "missing"
            raise InvalidTransition(f"run {run_id} cannot go from {now} to {status}")

    def claim_next(self, max_running: int) -> Run | None:
        """Mark the oldest queued run `running` if fewer than `max_running` are; one transaction.

        The claimed run has no pid until its worker process is attached, so two dispatchers
        can never start more runs than the limit, and a claim whose worker never started is
        found by its stale heartbeat.
        """
        now = time.time()
        with self._write() as db:
            running = db.execute(
                "SELECT COUNT(*) FROM runs WHERE status = ?", (RunStatus.RUNNING,)
            ).fetchone()[0]
            if running >= max_running:
                return None
            row = db.execute(
                "SELECT id FROM runs WHERE status = ? ORDER BY created_at, id LIMIT 1",
                (RunStatus.QUEUED,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE runs SET status = ?, started_at = ?, heartbeat_at = ? WHERE id = ?",
                (RunStatus.RUNNING, now, now, row["id"]),
            )
        return self.get_run(row["id"])

    def attach_worker(self, run_id: str, pid: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET pid = ?, heartbeat_at = ? WHERE id = ? AND status = ?",
                (pid, time.time(), run_id, RunStatus.RUNNING),
            )

    def start_run(self, run_id: str, pid: int, trials_total: int) -> None:
        now = time.time()
        self._transition(
            run_id,
            RunStatus.RUNNING,
            pid=pid,
            started_at=now,
            heartbeat_at=now,
            trials_total=trials_total,
        )

    def heartbeat(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))

    def complete_run(self, run_id: str, result: RunResult) -> None:
        self._transition(
            run_id,
            RunStatus.COMPLETED,
            finished_at=time.time(),
            result=json.dumps(to_plain(result)),
        )

    def fail_run(self, run_id: str, error: str, traceback: str = "") -> None:
        self._transition(
            run_id, RunStatus.FAILED, finished_at=time.time(), error=error, traceback=traceback
        )

    def cancel_run(self, run_id: str) -> None:
        self._transition(run_id, RunStatus.CANCELLED, finished_at=time.time())

    def interrupt_run(self, run_id: str, error: str) -> None:
        self._transition(run_id, RunStatus.INTERRUPTED, finished_at=time.time(), error=error)

    def requeue_run(self, run_id: str) -> None:
        """Queue an ended run again (resume): its trials and epochs stay."""
        self._transition(
            run_id,
            RunStatus.QUEUED,
            pid=None,
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            traceback=None,
            result=None,
            cancel_requested=0,
        )

    def request_cancel(self, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requested(self, run_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def get_result(self, run_id: str) -> RunResult | None:
        with self._connect() as db:
            row = db.execute("SELECT result FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or row["result"] is None:
            return None
        return from_plain(RunResult, json.loads(row["result"]))

    def delete_run(self, run_id: str) -> None:
        """Its epochs, trials and row, in one transaction; refused while it is active."""
        with self._write() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is not None and RunStatus(row["status"]).active:
                raise InvalidTransition(f"run {run_id} is {row['status']}")
            db.execute(
                "DELETE FROM epochs WHERE trial_id IN (SELECT id FROM trials WHERE run_id = ?)",
                (run_id,),
            )
            db.execute("DELETE FROM trials WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # trials and epochs
    def start_trial(
        self,
        run_id: str,
        *,
        candidate: int,
        round: int,
        fold: int | None,
        params: dict[str, Any],
        n_train: int,
        epochs_planned: int,
        pid: int | None,
        worker: str,
    ) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO trials (run_id, candidate, round, fold, params, n_train, "
                "epochs_planned, status, pid, worker, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    candidate,
                    round,
                    fold,
                    json.dumps(params, sort_keys=True),
                    n_train,
                    epochs_planned,
                    TrialStatus.RUNNING,
                    pid,
                    worker,
                    time.time(),
                ),
            )
            return int(cursor.lastrowid)

    def finish_trial(self, trial_id: int, status: TrialStatus, score: float | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE trials SET status = ?, finished_at = ?, score = ?, "
                "progress = CASE WHEN ? = 'completed' THEN 1 ELSE progress END WHERE id = ?",
                (status, time.time(), score, status, trial_id),
            )

    def set_trial_progress(self, trial_id: int, fraction: float) -> None:
        with self._write() as db:
            db.execute("UPDATE trials SET progress = ? WHERE id = ?", (fraction, trial_id))

    def end_open_trials(self, run_id: str, status: TrialStatus) -> int:
        """Fits left `running` by an earlier attempt of the run; returns how many."""
        with self._write() as db:
            return db.execute(
                "UPDATE trials SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
                (status, time.time(), run_id, TrialStatus.RUNNING),
            ).rowcount

    def trials(self, run_id: str) -> list[Trial]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM trials WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [_trial(r) for r in rows]

    def log_epochs(self, epochs: list[Epoch]) -> None:
        if not epochs:
            return
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.trial_id,
                        e.epoch,
                        e.loss,
                        e.accuracy,
                        e.val_loss,
                        e.val_accuracy,
                        e.seconds,
                        e.logged_at or time.time(),
                    )
                    for e in epochs
                ],
            )

    def epochs(self, run_id: str) -> list[Epoch]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT e.* FROM epochs e JOIN trials t ON t.id = e.trial_id "
                "WHERE t.run_id = ? ORDER BY e.trial_id, e.epoch",
                (run_id,),
            ).fetchall()
        return [_epoch(r) for r in rows]
