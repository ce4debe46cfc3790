"""Real files read faithfully: damaged bytes, a stray quote, no extension, more formats.

Every file here is made in the test. Each case once went wrong in a way a person noticed:
mojibake where the file had broken bytes, two messages merged into a third, a file refused
for its name, an Excel or zipped file not read at all.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from dashboard.widgets import md
from lstm_core.api import Engine, Reading
from lstm_core.cli.main import main
from lstm_core.data.intake import read_path, read_table
from lstm_core.domain.errors import UserError

REPLACEMENT = "\ufffd"


def damaged_tweets(lines: int = 60) -> bytes:
    """UTF-8 whose multi-byte characters lost a byte to '?' on some lines (`E2 3F A6`)."""
    rows = ["id,text"]
    for i in range(lines):
        if i % 3 == 0:
            rows.append(f"{i},Cruz\u2019s answer tonight\u2026 wow")
        elif i == 1:  # the few intact multi-byte characters
            rows.append(f"{i},Great caf\u00e9 debate \U0001f600 #{i}")
        else:
            rows.append(f"{i},plain words only {i}")
    data = "\n".join(rows).encode("utf-8") + b"\n"
    return data.replace("\u2019".encode(), b"\xe2?\x99").replace("\u2026".encode(), b"\xe2?\xa6")


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


# 1. damaged text is shown as damaged, counted, and the encoding can be chosen


def test_damaged_utf8_stays_utf8_with_replacement_characters_counted_by_row():
    df, report = read_table(damaged_tweets(), "tweets.csv")
    assert report.encoding == "utf-8"
    damaged = df["text"].iloc[0]
    assert damaged.startswith(f"Cruz{REPLACEMENT}?{REPLACEMENT}s answer")
    assert "â" not in "".join(df["text"])
    assert df["text"].iloc[1] == "Great café debate \U0001f600 #1"
    assert report.undecodable_rows == 20
    assert report.undecodable_bytes == 80  # two per damaged character, two per line
    assert len(report.undecodable_examples) == 2
    assert all(REPLACEMENT in example for example in report.undecodable_examples)
    assert report.reading.undecodable_rows == 20
    assert any("20 rows" in w and "utf-8" in w for w in report.warnings)


def test_an_explicit_encoding_overrides_the_guess():
    df, report = read_table(damaged_tweets(), "tweets.csv", encoding="latin-1")
    assert report.encoding == "latin-1"
    assert report.undecodable_rows == 0
    assert df["text"].iloc[0].startswith("Cruzâ?\x99s")
    with pytest.raises(UserError, match="'klingon' is not a text encoding"):
        read_table(damaged_tweets(), "tweets.csv", encoding="klingon")


def test_inspect_json_counts_undecodable_bytes_and_takes_an_encoding(tmp_path, capsys):
    path = tmp_path / "tweets.csv"
    path.write_bytes(damaged_tweets())
    assert main(["inspect", str(path), "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert (report["encoding"], report["undecodable_bytes"], report["undecodable_rows"]) == (
        "utf-8",
        80,
        20,
    )
    assert report["reading"]["encoding"] == "utf-8"
    assert main(["inspect", str(path), "--encoding", "cp1252", "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert (report["encoding"], report["undecodable_bytes"]) == ("cp1252", 0)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "20 rows" in out and f"Cruz{REPLACEMENT}?{REPLACEMENT}s" in out


def test_double_encoded_utf8_is_repaired_and_said():
    text = "label,text\nham,Meet at the café\nspam,Win a £500 prize\nham,see you soon\n"
    double = text.encode("utf-8").decode("cp1252").encode("utf-8")  # "cafÃ©", "Â£500"
    df, report = read_table(double, "x.csv")
    assert df["text"].tolist()[:2] == ["Meet at the café", "Win a £500 prize"]
    assert report.reading.mojibake_rows == 2
    assert any("2 rows" in w and "Ã©" in w for w in report.warnings)


def test_a_cyrillic_windows_file_is_read_in_its_own_encoding():
    text = "id,text\n" + "".join(f"{i},Привет как дела сегодня вечером {i}\n" for i in range(50))
    df, report = read_table(text.encode("cp1251"), "ru.csv")
    assert report.encoding == "cp1251"
    assert df["text"].iloc[0] == "Привет как дела сегодня вечером 0"


# 2. a stray quote in a tab-separated file no longer merges rows


def sms_collection(header: bool = True, delimiter: str = "\t", more: int = 0) -> bytes:
    lines = [f"label{delimiter}sms_message"] if header else []
    lines += [
        f"ham{delimiter}Go until jurong point, crazy",
        f'spam{delimiter}"Free entry in 2 a wkly comp to win',
        f"ham{delimiter}Yeah, give me a call when you're free",
        f"ham{delimiter}Ok lar... Joking wif u oni",
        f'ham{delimiter}He said "see you" at 5',
        f"spam{delimiter}WINNER!! claim your prize now",
        f"ham{delimiter}Nah I don't think he goes to usf",
    ]
    lines += [f"{'ham' if i % 3 else 'spam'}{delimiter}message number {i}" for i in range(more)]
    return ("\n".join(lines) + "\n").encode()


def test_a_stray_quote_in_a_tab_separated_file_no_longer_merges_rows():
    df, report = read_table(sms_collection(), "spam.tsv")
    assert report.rows == 7
    assert df["sms_message"].iloc[1] == '"Free entry in 2 a wkly comp to win'
    assert df["sms_message"].iloc[2] == "Yeah, give me a call when you're free"
    assert report.reading.quoting is False
    assert report.reading.quote_free_rows_changed == 4
    assert any(
        "without quote processing" in w and "7 rows instead of 4" in w for w in report.warnings
    )


def test_a_line_break_followed_by_a_row_is_flagged_in_a_comma_file():
    data = b'label,text\nham,hello there\nspam,"Free entry\nham,give me a call\nham,ok"\nham,bye\n'
    df, report = read_table(data, "x.csv")
    assert len(df) == 3
    assert report.reading.quoting is True
    assert any(
        w.startswith("In quoted texts, 2 line breaks are followed by what looks like another row")
        for w in report.warnings
    )


def test_a_quoted_multi_line_tab_file_keeps_its_quoting():
    data = b'label\ttext\nham\t"line one\nline two"\nspam\twin now\nham\tok then\n'
    df, report = read_table(data, "x.tsv")
    assert df["text"].iloc[0] == "line one\nline two"
    assert report.reading.quoting is True


# 3. a file without an extension, judged by its content


def test_the_classic_sms_collection_without_extension_or_header_is_read():
    df, report = read_table(sms_collection(header=False), "SMSSpamCollection")
    assert (report.rows, report.delimiter, report.reading.format) == (7, "tab", "tsv")
    assert list(df.columns) == ["column_1", "column_2"]


def test_the_uploaders_accept_any_file_and_the_data_page_reads_it(workspace):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/data.py").run()
    app.radio(key="data_source_choice").set_value("upload").run()
    uploader = app.file_uploader(key="data_upload")
    assert list(uploader.proto.type) == []
    data = sms_collection(header=False, more=30)
    uploader.upload("SMSSpamCollection", data, "application/octet-stream").run()
    assert not app.exception and not app.error
    assert "37 rows" in " ".join(m.value for m in app.markdown)
    app.button(key="data_confirm").click().run()
    engine = Engine(workspace.root)
    (dataset,) = engine.datasets()
    reading = engine.dataset_reading(dataset.id)
    assert (reading.format, reading.quoting, reading.header) == ("tsv", False, False)


def test_the_data_page_counts_damaged_rows_and_redraws_in_the_encoding_chosen(workspace):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/data.py").run()
    app.radio(key="data_source_choice").set_value("upload").run()
    app.file_uploader(key="data_upload").upload("tweets.csv", damaged_tweets(), "text/csv").run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "20 rows" in warnings
    shown = " ".join(t.value for t in app.text)
    assert shown.count(f"Cruz{REPLACEMENT}?{REPLACEMENT}s") == 2  # the two examples
    (picker,) = [s for s in app.selectbox if s.label == "Encoding"]
    assert picker.format_func(picker.value) == "auto (utf-8)"
    picker.set_value("latin-1").run()
    assert not app.exception
    assert md("decoded as latin-1") in " ".join(m.value for m in app.markdown)
    assert "20 rows" not in " ".join(w.value for w in app.warning)


# 4. more formats, each through the same report


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


FRAME = pd.DataFrame(
    {"label": ["ham", "spam", "ham", "spam"], "text": ["hi there", "WIN £5", "café?", "free"]}
)


def test_xlsx_first_sheet_or_the_sheet_chosen():
    other = pd.DataFrame(
        {"label": ["a", "b", "a"], "text": ["one", "two", "three"], "n": [1, 2, 3]}
    )
    data = excel_bytes({"Messages": FRAME, "Other": other})
    df, report = read_table(data, "book.xlsx")
    assert (report.rows, report.reading.format, report.reading.sheet) == (4, "xlsx", "Messages")
    assert report.sheets == ["Messages", "Other"]
    assert df["text"].tolist() == FRAME["text"].tolist()
    df, report = read_table(data, "book.xlsx", sheet="Other")
    assert (report.rows, list(df.columns)) == (3, ["label", "text", "n"])
    assert df["n"].tolist() == ["1", "2", "3"]
    with pytest.raises(UserError, match="no sheet named 'Nope'.*Messages, Other"):
        read_table(data, "book.xlsx", sheet="Nope")


def test_json_lines_and_a_json_list_of_records():
    records = [{"label": r.label, "text": r.text} for r in FRAME.itertuples()]
    records[1]["extra"] = None
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    df, report = read_table(lines, "data.jsonl")
    assert (report.rows, report.reading.format) == (4, "jsonl")
    assert df["text"].tolist() == FRAME["text"].tolist()
    assert df["extra"].tolist() == [""] * 4
    df, report = read_table(json.dumps(records).encode(), "data.json")
    assert (report.rows, report.reading.format) == (4, "json")
    with pytest.raises(UserError, match="Line 2 is not JSON"):
        read_table(b'{"a": 1}\n{"a": \n', "bad.jsonl")


def test_gzip_and_a_zip_holding_one_table_are_unpacked():
    plain = sms_collection()
    df, report = read_table(gzip.compress(plain), "spam.tsv.gz")
    assert (report.rows, report.reading.compression, report.reading.format) == (7, "gzip", "tsv")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__MACOSX/._SMSSpamCollection", b"\x00\x05junk")
        archive.writestr("smsspamcollection/SMSSpamCollection", plain)
        archive.writestr("smsspamcollection/readme", b"")
    df, report = read_table(buffer.getvalue(), "smsspamcollection.zip")
    assert report.rows == 7
    assert (report.reading.compression, report.reading.member) == (
        "zip",
        "smsspamcollection/SMSSpamCollection",
    )


def test_parquet_is_read_with_its_column_names():
    buffer = io.BytesIO()
    FRAME.assign(score=[1.5, None, 3.0, 4.0]).to_parquet(buffer)
    df, report = read_table(buffer.getvalue(), "data.parquet")
    assert (report.rows, report.reading.format, report.encoding) == (4, "parquet", "")
    assert list(df.columns) == ["label", "text", "score"]
    assert df["score"].tolist() == ["1.5", "", "3.0", "4.0"]
    assert (report.suggested_text, report.suggested_label) == ("text", "label")


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"\x1f\x8b\x08\x00broken", "x.csv.gz", "damaged gzip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "older Excel"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", "paper.pdf", "does not look like text"),
        (b"PAR1 not really parquet PAR1", "x.parquet", "Parquet file could not be read"),
    ],
)
def test_unreadable_inputs_get_one_sentence(data, name, message):
    with pytest.raises(UserError, match=message) as caught:
        read_table(data, name)
    assert "\n" not in str(caught.value)


def test_a_zip_holding_two_tables_is_refused_naming_them(tmp_path, capsys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.csv", b"a,b\n1,2\n")
        archive.writestr("test.csv", b"a,b\n3,4\n")
    path = tmp_path / "both.zip"
    path.write_bytes(buffer.getvalue())
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds 2 files (train.csv, test.csv)" in err


# the Reading: recorded, saved with the dataset, and enough to read the bytes again


def test_a_reading_reads_the_same_bytes_the_same_way_and_is_kept_with_the_dataset(workspace):
    data = gzip.compress(sms_collection(more=30))
    df, report = read_table(data, "spam.tsv.gz")
    again, report_again = read_table(data, reading=report.reading)
    pd.testing.assert_frame_equal(df, again)
    assert report_again.reading == report.reading
    assert Reading.from_dict(json.loads(json.dumps(report.reading.to_dict()))) == report.reading
    engine = Engine()
    dataset, _ = engine.freeze_dataset(
        df, "sms_message", "label", "spam.tsv.gz", cv=0, test_size=0.2, reading=report.reading
    )
    assert engine.dataset_reading(dataset.id) == report.reading


def test_reading_and_profiling_report_progress(tmp_path):
    seen: list[tuple[float, str]] = []
    rows = "".join(f"{'ab'[i % 2]},message number {i}\n" for i in range(5_000))
    path = tmp_path / "big.csv"
    path.write_text("label,text\n" + rows)
    read_path(str(path), progress=lambda share, stage: seen.append((share, stage)))
    shares = [share for share, _ in seen]
    assert shares == sorted(shares) and shares[-1] == 1.0
    assert {"Reading", "Profiling"} <= {stage.split()[0] for _, stage in seen}


def test_the_data_page_reads_the_sheet_chosen(workspace):
    other = pd.DataFrame({"label": ["a", "b", "a"], "text": ["one", "two", "three"]})
    data = excel_bytes({"Messages": FRAME, "Other": other})
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/data.py").run()
    app.radio(key="data_source_choice").set_value("upload").run()
    app.file_uploader(key="data_upload").upload("book.xlsx", data, "application/zip").run()
    assert "**4 rows**" in " ".join(m.value for m in app.markdown)
    assert not [s for s in app.selectbox if s.label == "Encoding"]  # a workbook has none
    (picker,) = [s for s in app.selectbox if s.label == "Sheet"]
    picker.set_value("Other").run()
    assert not app.exception
    assert "**3 rows**" in " ".join(m.value for m in app.markdown)


# what the tester's real files showed: sheets, repairs said by every command, fewer false notes


def test_a_workbook_reads_its_fullest_sheet_and_names_the_others(tmp_path, capsys):
    readme = pd.DataFrame({"about": ["SMS spam messages; the data is on the next sheet"]})
    df, report = read_table(excel_bytes({"README": readme, "data": FRAME}), "sms.xlsx")
    assert (report.reading.sheet, report.rows) == ("data", 4)
    assert df["text"].tolist() == FRAME["text"].tolist()
    (said,) = [w for w in report.warnings if "sheets" in w]
    assert "'README', 'data'" in said and "--sheet" in said and "Sheet picker" in said
    header_only = excel_bytes({"Empty": pd.DataFrame({"text": []}), "Tweets": FRAME})
    path = tmp_path / "tweets.xlsx"
    path.write_bytes(header_only)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "4 rows, read as an Excel workbook (sheet 'Tweets')\n" in out
    assert "note: The workbook has 2 sheets ('Empty', 'Tweets'); 'Tweets' was read" in out
    assert main(["inspect", str(path), "--sheet", "Empty"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Sheet 'Empty' has a single row; the workbook's other sheets: 'Tweets'" in err
    assert "--sheet" in err
    _, report = read_table(excel_bytes({"Messages": FRAME, "Same": FRAME}), "book.xlsx")
    assert report.reading.sheet == "Messages"  # the first of equals


def test_the_data_page_offers_the_sheets_when_the_one_chosen_cannot_be_read(workspace):
    data = excel_bytes({"Empty": pd.DataFrame({"text": []}), "Tweets": FRAME})
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/data.py").run()
    app.radio(key="data_source_choice").set_value("upload").run()
    app.file_uploader(key="data_upload").upload("tweets.xlsx", data, "application/zip").run()
    assert "**4 rows**" in " ".join(m.value for m in app.markdown)
    assert any(md("('Empty', 'Tweets')") in w.value for w in app.warning)
    (picker,) = [s for s in app.selectbox if s.label == "Sheet"]
    picker.set_value("Empty").run()
    assert md("other sheets: 'Tweets'") in " ".join(e.value for e in app.error)
    (picker,) = [s for s in app.selectbox if s.label == "Sheet"]
    picker.set_value("Tweets").run()
    assert "**4 rows**" in " ".join(m.value for m in app.markdown)
    assert not [e for e in app.error if "Empty" in e.value]


def test_a_mojibake_repair_never_adds_a_replacement_character_and_shows_the_change():
    long_start = "An ordinary review that runs on for a good while before it gets to the point " * 3
    rows = [
        ("pos", long_start + "and the cafÃ© scene is lovely"),
        ("neg", "The cafÃ© scene Â? was dull"),  # ftfy would turn 'Â?' into U+FFFD
        ("neg", "I donï¿½T know about the cafÃ©"),  # and 'ï¿½' too
        ("pos", "plain words"),
    ]
    data = ("label,text\n" + "".join(f"{a},{b}\n" for a, b in rows)).encode("utf-8")
    df, report = read_table(data, "reviews.csv")
    assert df["text"].tolist()[1:] == [text for _, text in rows[1:]]
    assert df["text"].iloc[0].endswith("the café scene is lovely")
    assert REPLACEMENT not in "".join(df["text"])
    assert (report.reading.mojibake_rows, report.undecodable_rows) == (1, 0)
    (said,) = [w for w in report.warnings if w.startswith("Repaired")]
    assert "in 1 row (" in said
    assert "cafÃ© scene is lovely' became '" in said and "café scene is lovely'" in said


def test_validate_and_train_say_how_the_file_was_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    path = tmp_path / "spam.tsv"
    path.write_bytes(sms_collection(more=40))
    columns = ["--text", "sms_message", "--label", "label"]
    assert main(["validate", str(path), *columns]) == 0
    assert "note: Read without quote processing" in capsys.readouterr().out
    assert main(["validate", str(path), *columns, "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert set(report) == {"ok", "rows", "problems", "warnings", "markup"}
    assert any(w.startswith("Read without quote processing") for w in report["warnings"])
    queued = SimpleNamespace(id="run1", status="queued")
    monkeypatch.setattr(Engine, "submit", lambda self, spec: queued)  # no training here
    for json_flag in ([], ["--json"]):
        assert main(["train", str(path), *columns, "--background", *json_flag]) == 0
        assert "note: Read without quote processing" in capsys.readouterr().err


def test_train_help_says_html_is_stripped_by_default_for_tags_not_entities(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "5% or more of the texts hold an HTML tag" in said
    assert "entities alone never make it the default" in said


def test_a_correctly_quoted_multi_paragraph_comma_file_is_not_flagged():
    """news_cp1252.csv: articles whose paragraphs hold a comma have two-field lines."""
    article = "First paragraph of the story.\nSecond one, with a comma in it.\nThird."
    data = "Title,Content\n" + "".join(f'Headline {i},"{article} {i}"\n' for i in range(6))
    df, report = read_table(data.encode("cp1252"), "news.csv")
    assert len(df) == 6 and df["Content"].iloc[0] == f"{article} 0"
    assert not any("line break" in w for w in report.warnings)


def test_counts_in_intake_messages_agree_with_their_nouns():
    data = b"label,text,\nham,one,\n\nspam,two,\nham,two,\nspam,three,x\n" + b"ham,four,\n" * 25
    _, report = read_table(data, "x.csv")
    said = " ".join(report.warnings)
    assert "Skipped 1 blank row." in said
    assert "1 row had text spilling over" in said
    assert "1 rows" not in said
    texts = ["see you at noon", "win a prize now", "see you at noon", "call me", "ok then"]
    data = "label,text\n" + "".join(
        f"{'ham' if i % 2 else 'spam'},{t}\n" for i, t in enumerate(texts)
    )
    _, report = read_table(data.encode(), "y.csv")
    assert "1 text in 'text' repeats an earlier one" in " ".join(report.warnings)


@pytest.mark.parametrize(
    "data, name, shown",
    [
        (excel_bytes({"Messages": FRAME}), "book.xlsx", "an Excel workbook (sheet 'Messages')"),
        (b'{"label": "a", "text": "x y"}\n{"label": "b", "text": "z w"}\n', "d.jsonl",
         "JSON Lines, decoded as utf-8"),
        (gzip.compress(sms_collection()), "s.tsv.gz",
         "tab-separated text, decoded as utf-8, without quote processing, unpacked from gzip"),
    ],
    ids=["xlsx", "jsonl", "gzip"],
)  # fmt: skip
def test_inspect_says_the_reading_as_a_sentence_and_no_delimiter_where_there_is_none(
    tmp_path, capsys, data, name, shown
):
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["inspect", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(f"read as {shown}" + (", delimiter tab" if "tab-sep" in shown else ""))


def test_an_undecodable_byte_in_a_json_key_shows_as_a_replacement_character():
    """A key is a column name: its damaged byte shows as U+FFFD, as in the texts."""
    line = '{"t\xffext": "café été naïve résumé", "label": "a"}\n'.encode()
    data = line.replace("\xff".encode(), b"\xff") * 6
    frame, report = read_table(data, "x.jsonl")
    assert report.encoding == "utf-8" and list(frame.columns) == ["t\ufffdext", "label"]
    assert report.undecodable_bytes == 6 and len(frame) == 6


@pytest.mark.parametrize("encoding", ["bogus", "hex", "idna", "undefined"])
def test_an_encoding_that_cannot_read_text_is_one_sentence(encoding):
    """A name Python does not know, a bytes-to-bytes codec, one that refuses to replace
    bytes: each is one sentence that names the usual choices, never a traceback."""
    with pytest.raises(UserError) as refused:
        read_table("text,label\ncafé,a\n".encode(), "x.csv", encoding=encoding)
    said = str(refused.value)
    assert said.count("\n") == 0 and encoding in said and "try utf-8, cp1252" in said
