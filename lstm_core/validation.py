"""Check a (text column, label column) choice before anything is trained on it.

Each problem is one sentence that names what was received and what to do, so the
dashboard can list them and the CLI can print them on one line.
"""

from __future__ import annotations

import pandas as pd

from lstm_core.datasets import LabelledTexts
from lstm_core.errors import UserError
from lstm_core.intake import MAX_LABEL_CLASSES
from lstm_core.spec import min_examples_per_class

NUMERIC_TEXT_SHARE = 0.9  # a text column this share of which has no letters gets a warning


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
    texts = df[text_column].str.strip()
    labels = df[label_column].str.strip()
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
    texts = df[text_column].str.strip()
    texts = texts[texts != ""]
    wordless = (~texts.str.contains(r"[^\W\d_]", regex=True)).mean() if len(texts) else 0.0
    if wordless >= NUMERIC_TEXT_SHARE:
        warnings.append(
            f"Column '{text_column}' holds numbers or ids rather than words ({wordless:.0%} of "
            "its values have no letters); a recurrent model learns little from them. Is it "
            "the column with the texts?"
        )
    labels = df[label_column].str.strip()
    same_number: dict[float, set[str]] = {}
    for value in labels[labels != ""].unique():
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
    texts = df[text_column].str.strip()
    labels = df[label_column].str.strip()
    no_text = texts == ""
    no_label = (labels == "") & ~no_text
    keep = ~no_text & ~no_label
    notes = []
    if no_text.any():
        notes.append(f"Dropped {int(no_text.sum()):,} rows with no text.")
    if no_label.any():
        notes.append(f"Dropped {int(no_label.sum()):,} rows with no label.")
    kept_labels = labels[keep]
    counts = {str(k): int(v) for k, v in kept_labels.value_counts().sort_index().items()}
    return LabelledTexts(
        texts=df[text_column][keep].to_numpy(dtype=object),
        labels=kept_labels.to_numpy(dtype=object),
        class_counts=counts,
        notes=notes,
    )
