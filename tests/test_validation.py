"""Every way a column choice can be wrong gets its own sentence."""

from __future__ import annotations

import pandas as pd
import pytest

from lstm_core.data.validation import column_problems, select_columns
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import min_examples_per_class


def frame(texts, labels) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "label": labels}, dtype="str")


GOOD = frame([f"message {i} words" for i in range(40)], ["ham", "spam"] * 20)


def only_problem(df, text="text", label="label", cv=2, test_size=0.2) -> str:
    problems = column_problems(df, text, label, cv=cv, test_size=test_size)
    assert len(problems) == 1, problems
    return problems[0]


def test_good_choice_has_no_problems():
    assert column_problems(GOOD, "text", "label", cv=5, test_size=0.2) == []


def test_missing_column_names_the_columns_that_exist():
    message = only_problem(GOOD, text="message")
    assert message == "There is no column named 'message'; the columns are 'text', 'label'."


def test_same_column_twice():
    assert "both column 'text'" in only_problem(GOOD, label="text")


def test_no_usable_text():
    df = frame(["", " ", ""] * 10, ["a", "b", "c"] * 10)
    assert "has no text in any row" in only_problem(df)
    df = frame(["!!", "??", "..."] * 10, ["a", "b", "c"] * 10)
    assert "has no words in it" in only_problem(df)


def test_fewer_than_two_classes():
    df = frame([f"t {i}" for i in range(20)], ["ham"] * 20)
    assert (
        only_problem(df)
        == "Column 'label' has only 1 class ('ham'); a classifier needs at least two."
    )


def test_label_with_too_many_distinct_values():
    df = frame([f"t {i}" for i in range(100)], [f"id{i}" for i in range(100)])
    message = only_problem(df)
    assert "has 100 different values in 100 rows, so it cannot be a label" in message


def test_class_too_rare_for_the_folds():
    df = frame([f"t {i}" for i in range(40)], ["ham"] * 36 + ["spam"] * 4)
    message = only_problem(df, cv=5)
    assert message.startswith("Class 'spam' has only 4 example(s), but 5-fold cross-validation")
    assert f"needs at least {min_examples_per_class(5, 0.2)}" in message
    assert column_problems(df, "text", "label", cv=2, test_size=0.25) == []


def test_missing_texts_and_labels_are_dropped_and_counted():
    df = frame(["a b", "", "c d", "e f"] * 10, ["x", "y", "", "y"] * 10)
    data = select_columns(df, "text", "label", cv=2, test_size=0.25)
    assert len(data.texts) == 20
    assert data.notes == ["Dropped 10 rows with no text.", "Dropped 10 rows with no label."]
    assert data.class_counts == {"x": 10, "y": 10}
    assert data.texts.dtype == object


def test_select_raises_all_problems_in_one_error():
    with pytest.raises(UserError, match="There is no column named 'nope'"):
        select_columns(GOOD, "nope", "label", cv=3, test_size=0.2)


def test_numbers_that_are_one_label_written_three_ways_get_a_warning():
    from lstm_core.data.validation import column_warnings

    df = frame([f"some words {i}" for i in range(30)], ["1", "1.0", "01"] * 9 + ["2"] * 3)
    (warning,) = column_warnings(df, "text", "label")
    assert warning.startswith("Labels '01', '1', '1.0' look like the same number but are 3")
    assert column_warnings(GOOD, "text", "label") == []


def test_a_text_column_of_numbers_or_ids_gets_a_warning():
    from lstm_core.data.validation import column_warnings

    df = frame([f"{1000 + i}" for i in range(40)], ["ham", "spam"] * 20)
    (warning,) = column_warnings(df, "text", "label")
    assert warning.startswith("Column 'text' holds numbers or ids rather than words (100%")


def test_rows_left_out_are_counted_before_training():
    """validate used to say 'can be trained on' without the rows train then drops."""
    from lstm_core.data.validation import column_warnings

    df = frame(["a b", "", "c d", "e f"] * 10, ["x", "y", "", "y"] * 10)
    assert column_warnings(df, "text", "label") == [
        "10 rows with no text and 10 rows with no label are left out, so 20 of 40 rows are used."
    ]


def test_missing_values_are_empty_cells_for_validate_and_train_alike():
    """pandas 3 keeps NaN and None through astype(str): they used to count as usable in
    validate and be saved as the text or class 'nan'."""
    from lstm_core.data.validation import column_warnings

    df = frame(["a b", None, "c d", "e f"] * 10, ["x", "y", None, "y"] * 10)
    (warning,) = column_warnings(df, "text", "label")
    assert warning.startswith("10 rows with no text and 10 rows with no label are left out")
    data = select_columns(df, "text", "label", cv=2, test_size=0.25)
    assert data.class_counts == {"x": 10, "y": 10}
    assert sorted(set(data.labels)) == ["x", "y"] and "nan" not in set(data.texts)
    one_class = frame([f"t {i}" for i in range(20)], ["x"] * 10 + [None] * 10)
    assert (
        only_problem(one_class)
        == "Column 'label' has only 1 class ('x'); a classifier needs at least two."
    )


def test_a_label_that_reads_as_missing_is_kept_as_a_class_and_said():
    from lstm_core.data.validation import column_warnings

    df = frame([f"t {i}" for i in range(40)], ["ham", "spam", "NaN", "null"] * 10)
    assert column_warnings(df, "text", "label") == [
        f"Label '{label}' (10 rows) is kept as a class of its own; if it marks a missing "
        "label, empty those cells and the rows are left out."
        for label in ("NaN", "null")
    ]
    assert select_columns(df, "text", "label", cv=2, test_size=0.25).class_counts == {
        "NaN": 10,
        "ham": 10,
        "null": 10,
        "spam": 10,
    }
