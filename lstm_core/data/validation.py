"""Check a (text column, label column) choice before anything is trained on it.

Each problem is one sentence that names what was received and what to do, so the
dashboard can list them and the CLI can print them on one line.
"""

from __future__ import annotations

import pandas as pd

from lstm_core.data.column_profile import MAX_LABEL_CLASSES
from lstm_core.data.datasets import LabelledTexts
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import min_examples_per_class

NUMERIC_TEXT_SHARE = 0.9  # a text column this share of which has no letters gets a warning
# Labels that a spreadsheet or pandas writes for a missing value; read from a file they are
# words like any other, so they stay a class (with a warning).
MISSING_SPELLINGS = frozenset({"nan", "-nan", "none", "null", "na", "n/a", "#n/a", "<na>", "nil"})


def _cells(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped text, a missing value (NaN, None: pandas 3 keeps them through
    astype(str)) as an empty cell, so validate and train leave out the same rows."""
    return df[column].astype("str").fillna("").str.strip()


def _left_out(texts: pd.Series, labels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The rows with no text, and the rows with a text but no label: what train drops."""
    no_text = texts == ""
    return no_text, (labels == "") & ~no_text


def column_problems(
    df: pd.DataFrame, text_column: str, label_column: str, cv: int, test_size: float
) -> list[str]:
    """Every problem with the choice, as sentences; an empty list means it can be trained on."""
    names = ", ".join(f"'{c}'" for c in df.columns)
    problems = [
        f"There is no column named '{col}'; the columns are {names}."
        for col in dict.fromkeys((text_column, label_column))
        if col not in df.columns
    ]
    if problems:
        return problems
    if text_column == label_column:
        return [
            f"The text and the label are both column '{text_column}'; choose two different columns."
        ]
    texts, labels = _cells(df, text_column), _cells(df, label_column)
    usable = (texts != "") & (labels != "")
    if not (texts != "").any():
        return [
            f"Column '{text_column}' has no text in any row; choose the column that holds the texts."
        ]
    if not texts[texts != ""].str.contains(r"[^\W_]", regex=True).any():
        problems.append(
            f"Column '{text_column}' has no words in it (only symbols); choose the column that holds the texts."
        )
    counts = labels[usable].value_counts()
    n_rows = int(usable.sum())
    if len(counts) > MAX_LABEL_CLASSES or (n_rows >= 20 and len(counts) > n_rows // 2):
        problems.append(
            f"Column '{label_column}' has {len(counts):,} different values in {n_rows:,} rows, so it "
            f"cannot be a label; choose a column with at most {MAX_LABEL_CLASSES} repeated classes."
        )
    elif len(counts) < 2:
        only = f" ('{counts.index[0]}')" if len(counts) else ""
        problems.append(
            f"Column '{label_column}' has only {len(counts)} class{only}; a classifier needs at least two."
        )
    else:
        needed = min_examples_per_class(cv, test_size)
        for label, count in counts.items():
            if count < needed:
                folds = f"{cv}-fold cross-validation" if cv >= 2 else "a validation split"
                problems.append(
                    f"Class '{label}' has only {count} example(s), but {folds} with a "
                    f"{test_size:.0%} test split needs at least {needed}; use fewer folds, "
                    f"a larger test split, or remove that class."
                )
    return problems


def column_warnings(df: pd.DataFrame, text_column: str, label_column: str) -> list[str]:
    """What can be trained on but probably should not be, one sentence each."""
    warnings = []
    texts, labels = _cells(df, text_column), _cells(df, label_column)
    no_text, no_label = _left_out(texts, labels)
    if no_text.any() or no_label.any():
        counts = ((no_text, "text"), (no_label, "label"))
        parts = " and ".join(
            f"{int(m.sum()):,} rows with no {what}" for m, what in counts if m.any()
        )
        kept = len(df) - int(no_text.sum()) - int(no_label.sum())
        warnings.append(f"{parts} are left out, so {kept:,} of {len(df):,} rows are used.")
    texts = texts[texts != ""]
    wordless = (~texts.str.contains(r"[^\W\d_]", regex=True)).mean() if len(texts) else 0.0
    if wordless >= NUMERIC_TEXT_SHARE:
        warnings.append(
            f"Column '{text_column}' holds numbers or ids rather than words ({wordless:.0%} of "
            "its values have no letters); a recurrent model learns little from them. Is it "
            "the column with the texts?"
        )
    labels = labels[~no_text & ~no_label]
    for label, count in labels[labels.str.lower().isin(MISSING_SPELLINGS)].value_counts().items():
        warnings.append(
            f"Label '{label}' ({count:,} rows) is kept as a class of its own; if it marks a "
            "missing label, empty those cells and the rows are left out."
        )
    same_number: dict[float, set[str]] = {}
    for value in labels.unique():
        try:
            number = float(value)
        except ValueError:
            continue
        same_number.setdefault(number, set()).add(str(value))
    for spellings in same_number.values():
        if len(spellings) > 1:
            shown = ", ".join(f"'{v}'" for v in sorted(spellings))
            warnings.append(
                f"Labels {shown} look like the same number but are {len(spellings)} different "
                "classes; write them one way in the file if they mean the same class."
            )
    return warnings


def select_columns(
    df: pd.DataFrame, text_column: str, label_column: str, cv: int, test_size: float
) -> LabelledTexts:
    """The usable rows of the chosen columns, or a `UserError` listing every problem."""
    problems = column_problems(df, text_column, label_column, cv, test_size)
    if problems:
        raise UserError(" ".join(problems))
    texts, labels = _cells(df, text_column), _cells(df, label_column)
    no_text, no_label = _left_out(texts, labels)
    keep = ~no_text & ~no_label
    notes = []
    if no_text.any():
        notes.append(f"Dropped {int(no_text.sum()):,} rows with no text.")
    if no_label.any():
        notes.append(f"Dropped {int(no_label.sum()):,} rows with no label.")
    kept_labels = labels[keep]
    counts = {str(k): int(v) for k, v in kept_labels.value_counts().sort_index().items()}
    return LabelledTexts(
        texts=df[text_column].astype("str")[keep].to_numpy(dtype=object),
        labels=kept_labels.to_numpy(dtype=object),
        class_counts=counts,
        notes=notes,
    )
