"""Rows of a SQL backend read back as entities, each value checked on the way.

SQLite's `quick_check` reads pages, not values: a damaged byte inside a value passes it.
So every field is read through `Record`, which turns text that is not UTF-8, a number
turned into text, JSON that does not parse or an unknown status into `RecordDamaged`
naming the record and the field, never a stray exception. A row is anything that gives
its values by column name (`Row`), so every SQL backend reads its rows through here.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields
from typing import Any, Protocol

from lstm_core.domain.entities import Dataset, Epoch, Run, RunResult, RunStatus, Trial, TrialStatus
from lstm_core.domain.plain import from_plain
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.store_errors import RecordDamaged


class Row(Protocol):
    """A database row: values by column name, and the names it has."""

    def __getitem__(self, name: str) -> Any: ...

    def keys(self) -> list[str]: ...


class Garbled(str):
    """A text value whose bytes are not UTF-8: a damaged byte in the file."""


def text_value(raw: bytes) -> str:
    """A driver's raw text as Python text; a damaged value is kept, marked, for `Record`."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Garbled(raw.decode("utf-8", "replace"))


# Columns that hold text (JSON included); every other column holds a number or NULL, and
# `id` either (a run's is text, a fit's a number).
TEXT_COLUMNS = frozenset(
    [
        "name",
        "text_column",
        "label_column",
        "class_counts",
        "note",
        "dataset_id",
        "spec",
        "status",
        "error",
        "traceback",
        "result",
        "worker_host",
        "run_id",
        "params",
        "worker",
        "d_name",
        "d_text",
        "d_label",
        "d_counts",
        "d_note",
    ]
)


class Record:
    """A row read field by field: a value that cannot be what its column holds (bytes
    that are not text, a number turned into text, JSON that does not parse) raises
    `RecordDamaged` naming the record and the field, never a stray exception."""

    def __init__(self, row: Row, record: str, run_id: str | None = None):
        self.row, self.record, self.run_id = row, record, run_id

    def __getitem__(self, name: str) -> Any:
        value = self.row[name]
        if isinstance(value, Garbled):
            raise self.damaged(name, "bytes that are not text")
        expected = (str, int) if name == "id" else str if name in TEXT_COLUMNS else (int, float)
        if value is not None and not isinstance(value, expected):
            raise self.damaged(name, f"a {type(value).__name__} where it keeps a value")
        return value

    def parse(self, name: str, build: Any) -> Any:
        """`build` applied to the field's JSON; any failure is the field's damage."""
        try:
            return build(json.loads(self[name]))
        except RecordDamaged:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise self.damaged(name, type(exc).__name__) from None

    def status(self, name: str, kind: type) -> Any:
        try:
            return kind(self[name])
        except ValueError:
            raise self.damaged(name, f"an unknown status {self.row[name]!r}") from None

    def damaged(self, field: str, reason: str) -> RecordDamaged:
        return RecordDamaged(self.record, field, reason, self.run_id)


def known_id(row: Row, column: str) -> str | None:
    """The row's key if it can be read (a damaged record still says whose it is)."""
    value = row[column] if column in row.keys() else None  # noqa: SIM118 (a Row)
    return value if isinstance(value, str) and not isinstance(value, Garbled) else None


# A dataset's columns, in its own table and as `run_of` reads them joined to a run.
_DATASET_COLUMNS = {
    "id": "id", "name": "name", "text_column": "text_column", "label_column": "label_column",
    "rows": "rows", "class_counts": "class_counts", "created_at": "created_at", "note": "note",
}  # fmt: skip
_JOINED_DATASET_COLUMNS = {
    "id": "dataset_id", "name": "d_name", "text_column": "d_text", "label_column": "d_label",
    "rows": "d_rows", "class_counts": "d_counts", "created_at": "d_created", "note": "d_note",
}  # fmt: skip


def dataset_of(row: Row) -> Dataset:
    r = Record(row, f"dataset {known_id(row, 'id') or '(unreadable id)'}")
    return _dataset(r, _DATASET_COLUMNS)


def _dataset(r: Record, columns: dict[str, str]) -> Dataset:
    values = {field: r[column] for field, column in columns.items() if field != "class_counts"}
    return Dataset(**values, class_counts=r.parse(columns["class_counts"], dict))


def run_of(row: Row) -> Run:
    run_id = known_id(row, "id")
    r = Record(row, f"run {run_id or '(unreadable id)'}", run_id)
    spec = r.parse("spec", ExperimentSpec.from_dict)
    if row["d_name"] is None:  # no dataset row (a database rebuilt without its record)
        dataset = Dataset(
            r["dataset_id"], "(deleted dataset)", spec.text_column, spec.label_column, 0
        )
    else:
        dataset = _dataset(r, _JOINED_DATASET_COLUMNS)
    return Run(
        id=r["id"],
        created_at=r["created_at"],
        status=r.status("status", RunStatus),
        spec=spec,
        dataset=dataset,
        pid=r["pid"],
        heartbeat_at=r["heartbeat_at"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        trials_total=r["trials_total"],
        error=r["error"],
        traceback=r["traceback"],
        worker_host=r["worker_host"],
        worker_start=r["worker_start"],
        name=r["name"],
        note=r["note"],
    )


def result_of(row: Row) -> RunResult | None:
    if row["result"] is None:
        return None
    run_id = known_id(row, "id")
    r = Record(row, f"run {run_id or '(unreadable id)'}", run_id)
    return r.parse("result", lambda plain: from_plain(RunResult, plain))


def trial_of(row: Row, number: int) -> Trial:
    run_id = known_id(row, "run_id")
    r = Record(row, f"fit {row['id']} of run {run_id or '(unreadable id)'}", run_id)
    return Trial(
        number=number,
        id=r["id"],
        run_id=r["run_id"],
        candidate=r["candidate"],
        round=r["round"],
        fold=r["fold"],
        params=r.parse("params", dict),
        n_train=r["n_train"],
        epochs_planned=r["epochs_planned"],
        status=r.status("status", TrialStatus),
        started_at=r["started_at"],
        pid=r["pid"],
        worker=r["worker"],
        finished_at=r["finished_at"],
        progress=r["progress"],
        score=r["score"],
        accuracy=r["accuracy"],
    )


def epoch_row(e: Epoch) -> tuple:
    """An epoch as the epochs table's columns, in order (stamped now if it has no time)."""
    return (
        e.trial_id,
        e.epoch,
        e.loss,
        e.accuracy,
        e.val_loss,
        e.val_accuracy,
        e.seconds,
        e.logged_at or time.time(),
    )


def epoch_of(row: Row) -> Epoch:
    r = Record(row, f"epoch {row['epoch']} of fit {row['trial_id']}", known_id(row, "run_id"))
    return Epoch(**{name: r[name] for name in EPOCH_FIELDS})


EPOCH_FIELDS = [f.name for f in fields(Epoch)]
