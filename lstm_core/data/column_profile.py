"""What each column of a table holds (text, label, numeric or empty), and which two columns
a person most likely wants as the texts and the labels.

Judged from a sample of the values, so that profiling a large file stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lstm_core.domain.wording import counted

MAX_LABEL_CLASSES = 50
LABEL_NAME_HINTS = ("label", "labels", "class", "category", "target", "sentiment", "y")
_PROFILE_SAMPLE = 20_000


@dataclass
class ColumnProfile:
    name: str
    kind: str  # text, label, numeric or empty
    filled: int
    distinct: int
    mean_length: float


@dataclass(frozen=True)
class Suggestion:
    """The columns to offer first: the longest texts, and the label most likely meant."""

    text: str | None
    label: str | None


def profile_column(name: str, column: pd.Series) -> ColumnProfile:
    """Classify a column as text, label, numeric or empty from a sample of its values."""
    values = (
        column if len(column) <= _PROFILE_SAMPLE else column.sample(_PROFILE_SAMPLE, random_state=0)
    )
    filled_values = values[values.str.strip() != ""]
    filled = int((column.str.strip() != "").sum())
    if filled == 0:
        return ColumnProfile(name, "empty", 0, 0, 0.0)
    distinct = int(column[column.str.strip() != ""].nunique())
    mean_length = float(filled_values.str.len().mean())
    if distinct <= MAX_LABEL_CLASSES and distinct <= max(2, filled // 2) and mean_length <= 40:
        kind = "label"
    elif pd.to_numeric(filled_values, errors="coerce").notna().mean() >= 0.95:
        kind = "numeric"
    else:
        kind = "text"
    return ColumnProfile(name, kind, filled, distinct, round(mean_length, 1))


def suggest(columns: list[ColumnProfile]) -> Suggestion:
    texts = [c for c in columns if c.kind == "text"]
    labels = [c for c in columns if c.kind == "label" and c.distinct >= 2]
    text = max(texts, key=lambda c: c.mean_length).name if texts else None
    named = [c for c in labels if c.name.strip().lower() in LABEL_NAME_HINTS]
    label = (named or sorted(labels, key=lambda c: c.distinct))[0].name if labels else None
    return Suggestion(text, label)


def repeats_warning(texts: pd.Series, name: str) -> str | None:
    """A sentence when texts repeat: a run keeps the repeats of a text on one side of its
    splits unless told not to, so a held-out text is never one it trained on."""
    duplicated = int(texts[texts.str.strip() != ""].duplicated().sum())
    if not duplicated:
        return None
    return (
        f"{counted(duplicated, 'text')} in '{name}' "
        f"{'repeats' if duplicated == 1 else 'repeat'} an earlier one "
        f"({len(texts) - duplicated:,} distinct); runs keep each text's repeats on one side "
        "of every split."
    )
