"""Freeze a validated column choice as a dataset snapshot that any process can read back.

The snapshot's identity is a hash of its content, so the same rows chosen twice give one
dataset, and a worker trains on exactly what the person saw. Beside the rows lies how the
file was read (`Reading`, as `reading.json`), so a script can read the file the same way;
that is why a dataset read from a file is identified by its source's shape too (the
reading's settings and the two column names): the same rows from a .csv and a .jsonl are
two datasets, each with the reading and the column names its exported script needs.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from lstm_core.data.reading import Reading
from lstm_core.domain.entities import Dataset
from lstm_core.domain.errors import UserError
from lstm_core.store.workspace import Workspace

DATA_FILE = "data.csv"
READING_FILE = "reading.json"


@dataclass
class LabelledTexts:
    """Rows that passed the checks, as plain object arrays (pandas 3 strings are Arrow)."""

    texts: np.ndarray
    labels: np.ndarray
    class_counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


def content_id(data: LabelledTexts, source: dict | None = None) -> str:
    """A hash of the rows, and of `source` (how they were read) when given. Rows frozen
    without a reading (a DataFrame through the API) keep the rows-only id they always had."""
    digest = hashlib.sha256()
    for text, label in zip(data.texts, data.labels, strict=True):
        digest.update(f"{text}\x1f{label}\x1e".encode())
    if source is not None:
        digest.update(json.dumps(source, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def source_shape(reading: Reading, text_column: str, label_column: str) -> dict:
    """What an exported script needs to read the file again: the reading's settings (not
    what it found) and the two columns' names."""
    return {**reading.settings(), "text_column": text_column, "label_column": label_column}


def freeze_dataset(
    workspace: Workspace,
    data: LabelledTexts,
    name: str,
    text_column: str,
    label_column: str,
    reading: Reading | None = None,
) -> Dataset:
    """Write the rows once (UTF-8 CSV, text and label) and register them.

    With a `reading`, the same rows read from a file of another shape (format, encoding,
    packing, sheet, column names, ...) are another dataset; the same file read the same way
    again is the same one."""
    shape = None if reading is None else source_shape(reading, text_column, label_column)
    dataset_id = content_id(data, shape)
    folder = workspace.dataset_dir(dataset_id)
    path = folder / DATA_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(zip(data.texts, data.labels, strict=True))
        partial.replace(path)
    if reading is not None and not (folder / READING_FILE).exists():
        partial = folder / f"{READING_FILE}.partial"
        partial.write_text(json.dumps(reading.to_dict()), encoding="utf-8")
        partial.replace(folder / READING_FILE)
    workspace.store.add_dataset(
        Dataset(dataset_id, name, text_column, label_column, len(data.texts), data.class_counts)
    )
    return workspace.store.get_dataset(dataset_id)


def load_dataset(workspace: Workspace, dataset_id: str) -> LabelledTexts:
    path = workspace.dataset_dir(dataset_id) / DATA_FILE
    if not path.exists():
        raise UserError(
            f"Dataset {dataset_id} is not in the workspace {workspace.root}; load the file again."
        )
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    texts = np.array([r[0] for r in rows], dtype=object)
    labels = np.array([r[1] for r in rows], dtype=object)
    values, counts = np.unique(labels, return_counts=True)
    return LabelledTexts(
        texts, labels, {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    )


def load_reading(workspace: Workspace, dataset_id: str) -> Reading | None:
    """How the dataset's file was read; None for one saved before readings were kept."""
    path = workspace.dataset_dir(dataset_id) / READING_FILE
    try:
        return Reading.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        raise UserError(
            f"Dataset {dataset_id}'s record of how its file was read ({path}) is damaged; "
            "load the file again."
        ) from None
