"""The exported script reads the run's data file as the workbench read it.

A script that guessed (UTF-8 else Windows-1252, the delimiter sniffed, pandas' quoting)
stopped on a damaged UTF-8 file and on the SMS collection's stray quote, and read other
files into other rows. Here each intake case is made as a file, read and frozen through
the engine, and the script exported for it must read the same texts and labels, in the
same order, as the dataset holds. One tiny run is trained for all cases: the reading part
of the script depends on the dataset and its `Reading`, not on the trained model.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import runpy
import subprocess
import sys
import zipfile
from dataclasses import replace

import pandas as pd
import pytest
from conftest import TINY, toy_texts

from lstm_core.api import Engine, ExperimentSpec, RunStatus
from lstm_core.data.datasets import load_dataset
from lstm_core.insight.code_export import render

ROWS_PER_CLASS = 20


def labelled(first: str = "spam", second: str = "ham") -> list[tuple[str, str]]:
    """(label, text) rows: the toy texts of two classes."""
    texts, labels = toy_texts(ROWS_PER_CLASS)
    return [
        (first if label == "spam" else second, str(text))
        for text, label in zip(texts, labels, strict=True)
    ]


def delimited(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def utf8_csv() -> bytes:
    """Accents, emoji, and quoted texts holding commas and a line break."""
    rows = [["label", "review"]] + [[label, text] for label, text in labelled()]
    rows[1][1] = "café, crème \U0001f600 and more"
    rows[2][1] = "two lines\nin one quoted text"
    return delimited(rows).encode("utf-8")


def cp1252_spilled_csv() -> bytes:
    """spam.csv's shape: Windows-1252, three unnamed columns, one text cut at a comma, a
    blank row and a row without a label."""
    lines = ["v1,v2,,,"] + [f"{label},{text} £5 café,,," for label, text in labelled()]
    lines[3] = "spam,win cash, now call,,"  # spilled into the first unnamed column
    lines[5] = ",,,,"
    lines[7] = " ,no label here,,,"
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def damaged_utf8_csv() -> bytes:
    """UTF-8 whose quotes lost a byte to '?' (E2 3F 9D): not Windows-1252 either (9D)."""
    rows = [["sentiment", "tweet"]] + [[label, text] for label, text in labelled("pos", "neg")]
    for row in rows[1::4]:
        row[1] = f"\u201c{row[1]}\u201d caf\u00e9"
    return delimited(rows).encode("utf-8").replace("\u201d".encode(), b"\xe2?\x9d")


def sms_tsv(header: bool = True) -> bytes:
    """The SMS Spam Collection's shape: tab-separated, unquoted, a text starting with '"'."""
    rows = [f"{label}\t{text}" for label, text in labelled()]
    rows[1] = 'spam\t"Free entry in 2 a wkly comp to win'
    rows[4] = 'ham\tHe said "see you" at 5'
    return ("\n".join((["label\tsms_message"] if header else []) + rows) + "\n").encode()


def bare_sms_collection() -> bytes:
    """As it comes out of the UCI zip: no extension, no header."""
    return sms_tsv(header=False)


def workbook() -> bytes:
    """The run read the second sheet; the first holds other rows and labels."""
    first = pd.DataFrame({"label": ["a", "b", "a"], "text": ["one", "two", "three"]})
    rows = labelled("yes", "no")
    second = pd.DataFrame({"n": range(len(rows)), "text": [t for _, t in rows],
                           "label": [label for label, _ in rows]})  # fmt: skip
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        first.to_excel(writer, sheet_name="Messages", index=False)
        second.to_excel(writer, sheet_name="Other", index=False)
    return buffer.getvalue()


def json_lines() -> bytes:
    """Labels that are JSON booleans (the workbench reads them as 'true' / 'false'), and a
    text holding U+2028 and a form feed, which JSON keeps raw and which end no line."""
    records = [
        {"text": text, "spam": label == "spam", "extra": None if i % 2 else i}
        for i, (label, text) in enumerate(labelled())
    ]
    records[1]["text"] += "\u2028on a new line\x0cand a new page"
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode() + b"\n"


def json_list_with_mojibake() -> bytes:
    """UTF-8 decoded twice ('cafÃ©') is repaired; 'voilÃ le' is not, as the workbench
    only asks ftfy about a lead byte's character followed by a continuation byte's."""
    records = [{"label": label, "text": text} for label, text in labelled()]
    records[0]["text"] = "Meet at the café".encode().decode("cp1252")
    records[2]["text"] = "voilÃ le travail"
    return json.dumps(records, ensure_ascii=False).encode("utf-8")


def mojibake_with_lost_characters() -> bytes:
    """UTF-8 decoded twice where ftfy would turn 'Â?' into U+FFFD: the workbench keeps that
    cell as it is, and so must the script."""
    rows = [["label", "text"]] + [[label, text] for label, text in labelled()]
    rows[1][1] = "Meet at the cafÃ©"
    rows[2][1] = "The cafÃ© scene Â? was dull"
    return delimited(rows).encode("utf-8")


def colliding_names() -> bytes:
    """A header whose repeated name would be numbered like a column it already has
    (text, text, text_2): the copy becomes text_3 in the workbench and the script."""
    rows = [["text", "text", "text_2", "label"]]
    rows += [["x", text, "y", label] for label, text in labelled()]
    return delimited(rows).encode()


def gzipped_semicolons() -> bytes:
    rows = [["label", "text"]] + [[label, f"{text}; ok"] for label, text in labelled()]
    return gzip.compress(delimited(rows, ";").encode())


def zipped_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__MACOSX/._reviews.csv", b"\x00\x05junk")
        archive.writestr("data/reviews.csv", utf8_csv())
    return buffer.getvalue()


def zipped_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("book.xlsx", workbook())
    return buffer.getvalue()


def parquet() -> bytes:
    rows = labelled()
    frame = pd.DataFrame({"label": [label for label, _ in rows], "text": [t for _, t in rows],
                          "score": [None if i % 3 else 1.5 for i in range(len(rows))]})  # fmt: skip
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


# name: (bytes, file name, text column, label column, what a person chose while reading)
CASES = {
    "utf8-csv": (utf8_csv, "reviews.csv", "review", "label", {}),
    "cp1252-spilled-csv": (cp1252_spilled_csv, "spam.csv", "v2", "v1", {}),
    "damaged-utf8-csv": (damaged_utf8_csv, "Sentiment.csv", "tweet", "sentiment", {}),
    "tsv-stray-quote": (sms_tsv, "sms.tsv", "sms_message", "label", {}),
    "no-extension": (bare_sms_collection, "SMSSpamCollection", "column_2", "column_1", {}),
    "xlsx-second-sheet": (workbook, "book.xlsx", "text", "label", {"sheet": "Other"}),
    "json-lines": (json_lines, "data.jsonl", "text", "spam", {}),
    "json-mojibake": (json_list_with_mojibake, "data.json", "text", "label", {}),
    "mojibake-lost-characters": (mojibake_with_lost_characters, "m.csv", "text", "label", {}),
    "colliding-names": (colliding_names, "names.csv", "text_3", "label", {}),
    "gzip": (gzipped_semicolons, "reviews.csv.gz", "text", "label", {}),
    "zip": (zipped_csv, "reviews.zip", "review", "label", {}),
    "zipped-xlsx": (zipped_workbook, "book.zip", "text", "label", {"sheet": "Other"}),
    "parquet": (parquet, "data.parquet", "text", "label", {}),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One completed tiny run and its result, to export with each case's dataset."""
    engine = Engine(tmp_path_factory.mktemp("ws"))
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels})
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "toy.csv", cv=0, test_size=0.25)
    run = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error
    return run, engine.result(run.id)


def exported(trained, tmp_path, case: str):
    """The case's file on disk, its dataset frozen with its reading, the script exported
    for it, and the engine that holds the dataset."""
    make, name, text, label, chosen = CASES[case]
    data = make()
    engine = Engine(tmp_path / "ws")
    frame, report = engine.read_file(data, name, **chosen)
    dataset, _ = engine.freeze_dataset(
        frame, text, label, name, cv=0, test_size=0.25, reading=report.reading
    )
    run, result = trained
    script = tmp_path / "train_run.py"
    reading = engine.dataset_reading(dataset.id)  # as kept beside the dataset
    code = render(replace(run, dataset=dataset), result, script.name, reading)
    script.write_text(code, encoding="utf-8")
    path = tmp_path / name
    path.write_bytes(data)
    return path, dataset, script, engine


@pytest.mark.parametrize("case", CASES)
def test_the_exported_script_reads_each_intake_case_into_the_runs_rows(trained, tmp_path, case):
    path, dataset, script, engine = exported(trained, tmp_path, case)
    frame = runpy.run_path(str(script))["read"](str(path))
    assert len(frame) == dataset.rows
    assert set(frame[dataset.label_column]) == set(dataset.class_counts)
    kept = load_dataset(engine.workspace, dataset.id)
    assert frame[dataset.text_column].tolist() == kept.texts.tolist()
    assert frame[dataset.label_column].tolist() == kept.labels.tolist()
    code = script.read_text(encoding="utf-8")
    assert "lstm_core" not in code
    reading = engine.dataset_reading(dataset.id)
    assert ("import ftfy" in code) == (reading.mojibake_rows > 0)
    linted = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F",
         str(script)], capture_output=True, text=True,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout  # no unused import, no undefined name


def test_the_reading_is_written_in_as_plain_arguments(trained, tmp_path):
    _, _, script, _ = exported(trained, tmp_path, "tsv-stray-quote")
    code = script.read_text(encoding="utf-8")
    assert 'open(path, encoding="utf-8", errors="replace", newline="")' in code
    assert 'delimiter="\\t", quoting=csv.QUOTE_NONE' in code
    assert "Quotes are plain characters (4 rows differ" in code
    _, _, script, _ = exported(trained, tmp_path, "xlsx-second-sheet")
    assert 'pd.read_excel(path, sheet_name="Other", header=None' in script.read_text()


@pytest.mark.parametrize(
    "case, data_name, reading",
    [
        ("xlsx-second-sheet", "DATA.xlsx", "an Excel workbook (sheet 'Other')"),
        ("parquet", "DATA.parquet", "Parquet"),
        ("json-lines", "DATA.jsonl", "JSON Lines, decoded as utf-8"),
        ("gzip", "DATA.csv.gz", "delimited text, decoded as utf-8, unpacked from gzip"),
        ("tsv-stray-quote", "DATA.tsv",
         "tab-separated text, decoded as utf-8, without quote processing"),
    ],
)  # fmt: skip
def test_the_scripts_usage_and_docstring_fit_the_runs_file(trained, tmp_path, case, data_name,
                                                          reading):  # fmt: skip
    _, _, script, _ = exported(trained, tmp_path, case)
    code = script.read_text(encoding="utf-8")
    assert f"    python train_run.py {data_name}\n" in code
    assert f'sys.exit("usage: python " + \'train_run.py\' + " {data_name}")' in code
    assert f"read the run's: {reading}." in " ".join(code.split())


def test_a_dataset_saved_before_readings_were_kept_is_read_by_a_guess_and_says_so(
    trained, tmp_path, capsys
):
    engine = Engine(tmp_path / "ws")
    path = tmp_path / "reviews.csv"
    path.write_bytes(utf8_csv())
    frame, _ = engine.read_file(path.read_bytes(), path.name)
    dataset, _ = engine.freeze_dataset(frame, "review", "label", path.name, cv=0, test_size=0.25)
    assert engine.dataset_reading(dataset.id) is None
    run, result = trained
    code = render(replace(run, dataset=dataset), result, "train_run.py", None)
    assert "kept no record of how the run's data file was read" in code
    script = tmp_path / "train_run.py"
    script.write_text(code, encoding="utf-8")
    read = runpy.run_path(str(script))["read"](str(path))
    assert len(read) == dataset.rows
    assert "is read by a guess" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("case", ["damaged-utf8-csv", "tsv-stray-quote"])
def test_the_script_the_engine_exports_trains_on_the_file_of_the_issue(tmp_path, case):
    """The two files of the report, end to end: read, trained and exported by the engine,
    then `python train_run.py FILE` trains on them and learns the run's classes."""
    make, name, text, label, _ = CASES[case]
    path = tmp_path / name
    path.write_bytes(make())
    engine = Engine(tmp_path / "ws")
    frame, report = engine.read_file(path.read_bytes(), name)
    dataset, _ = engine.freeze_dataset(
        frame, text, label, name, cv=0, test_size=0.25, reading=report.reading
    )
    run = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, test_size=0.25, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error
    script = engine.export_code(run.id, tmp_path / "train_run.py")
    done = subprocess.run([sys.executable, str(script), str(path)], capture_output=True,
                          text=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["classes"] == sorted(
        dataset.class_counts
    )


def test_the_same_rows_from_files_of_other_shapes_are_datasets_of_their_own(trained, tmp_path):
    """Six runs on the SMS collection as a file, a .gz, with a header, as xlsx, jsonl and
    zip once shared one dataset (named after the first file, with its column names and its
    reading), so the jsonl run's script read the jsonl as tab-separated text."""
    rows = labelled()
    files = {
        "sms.csv": (delimited([["label", "text"], *rows]).encode(), "text", "label"),
        "sms.jsonl": (
            "".join(json.dumps({"text": t, "label": lab}) + "\n" for lab, t in rows).encode(),
            "text",
            "label",
        ),
        "renamed.csv": (delimited([["Label", "SMS"], *rows]).encode(), "SMS", "Label"),
        "sms.csv.gz": (gzip.compress(delimited([["label", "text"], *rows]).encode()), "text",
                       "label"),
    }  # fmt: skip
    engine = Engine(tmp_path / "ws")
    run, result = trained
    datasets = {}
    for name, (data, text, label) in files.items():
        (tmp_path / name).write_bytes(data)
        frame, report = engine.read_file(data, name)
        datasets[name], _ = engine.freeze_dataset(
            frame, text, label, name, cv=0, test_size=0.25, reading=report.reading
        )
    assert len({d.id for d in datasets.values()}) == len(files) == len(engine.datasets())
    for name, dataset in datasets.items():
        _, text, label = files[name]
        assert (dataset.name, dataset.text_column, dataset.label_column) == (name, text, label)
        reading = engine.dataset_reading(dataset.id)
        assert reading.format == ("jsonl" if name.endswith(".jsonl") else "csv")
        assert reading.compression == ("gzip" if name.endswith(".gz") else None)
        script = tmp_path / "train_run.py"
        script.write_text(render(replace(run, dataset=dataset), result, script.name, reading))
        frame = runpy.run_path(str(script))["read"](str(tmp_path / name))
        assert frame[text].tolist() == [t for _, t in rows]
    # the same file read the same way again is still the one dataset
    frame, report = engine.read_file(files["sms.jsonl"][0], "copy.jsonl")
    again, _ = engine.freeze_dataset(
        frame, "text", "label", "copy.jsonl", cv=0, test_size=0.25, reading=report.reading
    )
    assert again.id == datasets["sms.jsonl"].id and again.name == "sms.jsonl"
    # a DataFrame frozen without a reading keeps the rows-only id it always had
    plain, _ = engine.freeze_dataset(frame, "text", "label", "frame", cv=0, test_size=0.25)
    rows_only = hashlib.sha256("".join(f"{t}\x1f{lab}\x1e" for lab, t in rows).encode())
    assert plain.id == rows_only.hexdigest()[:16]
