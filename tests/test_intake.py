"""Reading messy files: encodings, delimiters, headers, spill-over, and clear refusals."""

from __future__ import annotations

import codecs
import subprocess
import sys

import pytest

from lstm_core.data.intake import read_path, read_table
from lstm_core.domain.errors import UserError

ROWS = [
    ("ham", "See you at the café later"),
    ("spam", "WIN a £500 prize, call now"),
    ("ham", "Running late, sorry"),
    ("ham", "Dinner tonight?"),
    ("spam", "Claim your FREE cash award today"),
]


def csv_text(delimiter: str = ",", header: bool = True) -> str:
    lines = [f"label{delimiter}text"] if header else []
    for label, text in ROWS:
        cell = f'"{text}"' if delimiter in text else text
        lines.append(f"{label}{delimiter}{cell}")
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    "encoded, expected",
    [
        (csv_text().encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + csv_text().encode("utf-8"), "utf-8-sig"),
        (csv_text().encode("utf-16"), "utf-16"),
        (csv_text().encode("cp1252"), "cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "cp1252"],
)
def test_encodings_are_detected_and_text_survives(encoded, expected):
    df, report = read_table(encoded, "x.csv")
    assert report.encoding == expected
    assert list(df.columns) == ["label", "text"]
    assert df["text"].iloc[0] == "See you at the café later"
    assert "£500" in df["text"].iloc[1]


def test_undefined_cp1252_bytes_fall_back_to_latin1():
    data = csv_text().encode("cp1252").replace(b"Dinner", b"Dinner\x81")
    _, report = read_table(data)
    assert report.encoding == "latin-1"


@pytest.mark.parametrize(
    "delimiter, name", [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_delimiter_is_sniffed(delimiter, name):
    df, report = read_table(csv_text(delimiter).encode(), "data.txt")
    assert report.delimiter == name
    assert df.shape == (5, 2)
    assert df["text"].iloc[2] == "Running late, sorry"


def test_tab_separated_text_with_commas_is_not_read_as_csv():
    data = "label\ttext\nham\tyes, no, maybe, so\nspam\twin, win, win now\nham\tok, fine\n"
    df, report = read_table(data.encode(), "x.tsv")
    assert report.delimiter == "tab"
    assert df["text"].tolist()[0] == "yes, no, maybe, so"


def test_file_without_header_gets_generic_names_and_keeps_first_row():
    df, report = read_table(csv_text(header=False).encode())
    assert not report.has_header
    assert list(df.columns) == ["column_1", "column_2"]
    assert len(df) == 5
    assert report.suggested_text == "column_2"
    assert any("first row looks like data" in w for w in report.warnings)


def test_quoted_newlines_stay_inside_one_text():
    data = 'label,text\nham,"line one\nline two"\nspam,"win\r\nnow"\nham,ok\n'
    df, _ = read_table(data.encode())
    assert len(df) == 3
    assert df["text"].iloc[0] == "line one\nline two"


def test_duplicate_column_names_are_made_unique_and_reported():
    data = "text,text,label\na b c,d e f,x\ng h i,j k l,y\nm n o,p q r,x\n"
    df, report = read_table(data.encode())
    assert list(df.columns) == ["text", "text_2", "label"]
    assert any("'text' appears more than once" in w for w in report.warnings)


def test_empty_unnamed_columns_are_dropped():
    data = "label,text,,\nham,hello there,,\nspam,win cash now,,\nham,see you soon,,\n"
    df, report = read_table(data.encode())
    assert list(df.columns) == ["label", "text"]
    assert report.dropped_columns == ["column_3", "column_4"]


def test_rows_with_extra_fields_are_joined_back_into_the_text():
    rows = [f"ham,message number {i}" for i in range(60)] + ["spam,Call now, win big, today"]
    df, report = read_table(("label,text\n" + "\n".join(rows) + "\n").encode())
    assert list(df.columns) == ["label", "text"]
    assert df["text"].iloc[-1] == "Call now, win big, today"
    assert any("more fields than the header" in w for w in report.warnings)
    assert any("joined back into 'text'" in w for w in report.warnings)


def test_unnamed_column_with_real_content_is_kept():
    data = "label,text,\n" + "".join(f"ham,text {i},{i}\n" for i in range(10))
    df, _ = read_table(data.encode())
    assert list(df.columns) == ["label", "text", "column_3"]


def test_report_profiles_columns_and_counts_duplicates():
    data = "id,label,text\n" + "".join(
        f"{i},{'spam' if i % 3 else 'ham'},message {i % 20} goes here\n" for i in range(30)
    )
    _, report = read_table(data.encode())
    kinds = {c.name: c.kind for c in report.columns}
    assert kinds == {"id": "numeric", "label": "label", "text": "text"}
    assert (report.suggested_text, report.suggested_label) == ("text", "label")
    assert any("10 texts in 'text' repeat" in w for w in report.warnings)


def test_blank_rows_are_skipped_and_counted():
    data = "label,text\nham,one\n\n,\nspam,two\nham,three\n"
    df, report = read_table(data.encode())
    assert len(df) == 3
    assert "Skipped 2 blank rows." in report.warnings


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (b"   \n\n", "The file is empty"),
        (b"PK\x03\x04\x00\x00binary\x00stuff", "does not look like text"),
        (b"label,text\n", "The file has a single row"),
    ],
)
def test_unreadable_files_get_one_clear_sentence(data, message):
    with pytest.raises(UserError, match=message):
        read_table(data)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="There is no file at"):
        read_path(str(tmp_path / "nope.csv"))


def test_real_spam_csv(spam_csv):
    df, report = read_path(str(spam_csv))
    assert report.encoding in ("cp1252", "latin-1")
    assert (report.suggested_text, report.suggested_label) == ("v2", "v1")
    assert list(df.columns) == ["v1", "v2"]
    assert report.rows == 5572
    assert df["v1"].value_counts().to_dict() == {"ham": 4825, "spam": 747}
    spilled = df[df["v2"].str.contains("PO Box 5249")]["v2"].iloc[0]
    assert spilled.endswith('FML, PO Box 5249, MK17 92H. 450Ppw 16"')


def test_intake_path_does_not_import_tensorflow(tmp_path):
    """The data page must stay fast: reading and validating a file never loads TensorFlow."""
    code = (
        "import sys\n"
        "from lstm_core.data.intake import read_table\n"
        "from lstm_core.data.validation import select_columns\n"
        "from lstm_core.domain.spec import ExperimentSpec\n"
        "df, r = read_table(open(sys.argv[1], 'rb').read())\n"
        "select_columns(df, r.suggested_text, r.suggested_label, cv=2, test_size=0.2)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF was imported'\n"
    )
    from conftest import SAMPLE_SMS

    subprocess.run([sys.executable, "-c", code, str(SAMPLE_SMS)], check=True)


@pytest.mark.slow
def test_200k_row_file_loads_and_profiles(tmp_path):
    path = tmp_path / "big.csv"
    lines = ["label,text"] + [
        f"{'spam' if i % 7 == 0 else 'ham'},message {i} with a few words, ok"
        for i in range(200_000)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df, report = read_path(str(path))
    assert report.rows == 200_000
    assert (report.suggested_text, report.suggested_label) == ("text", "label")
