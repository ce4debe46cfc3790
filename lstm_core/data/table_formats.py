"""Tables that are not plain delimited text: gzip and zip around a file, Excel, Parquet, JSON.

A file is judged by its bytes (a gzip or zip signature, Parquet's `PAR1`, a workbook
inside a zip), never by its name. Each reader hands back cells as strings, "" where a
value is missing, so every format goes through the same report. The readers are the
well-kept ones (openpyxl and pyarrow behind pandas); their many exception types become one
sentence here.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib
from dataclasses import dataclass

import pandas as pd

from lstm_core.data.delimited import text_lines
from lstm_core.domain.errors import UserError

# A packed upload of a few MB may unpack to gigabytes, each byte many in memory as rows: the
# dashboard's one process is shared, so the unpacked size is bounded (4x Streamlit's upload limit).
MAX_UNPACKED_BYTES = 800 * 1024**2
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Office files (.xls)


@dataclass(frozen=True)
class Unpacked:
    """The bytes of the table itself, and what they came out of."""

    data: bytes
    name: str
    compression: str | None = None
    member: str | None = None


@dataclass(frozen=True)
class Cells:
    """A table as strings: `names` None when its first row may or may not be a header."""

    names: list[str] | None
    rows: list[list[str]]


def unpack(data: bytes, name: str) -> Unpacked:
    """Take the table out of a gzip file or a zip archive holding one file."""
    if data.startswith(b"\x1f\x8b"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                inner = stream.read(MAX_UNPACKED_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise UserError(
                f"The file is a damaged gzip file ({exc}); compress it again."
            ) from None
        _check_size(len(inner))
        stem = name[:-3] if name.lower().endswith(".gz") else name
        return Unpacked(inner, stem, "gzip")
    if data.startswith(b"PK\x03\x04") and not is_workbook(data):
        archive = _open_zip(data)
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not info.filename.rsplit("/", 1)[-1].startswith(".")
            and info.file_size > 0
        ]
        if len(members) != 1:
            listed = ", ".join(m.filename for m in members[:5]) + (
                ", ..." if len(members) > 5 else ""
            )
            raise UserError(
                f"The zip archive holds {len(members)} files ({listed or 'none with content'}); "
                "a zip is read when it holds one table, so upload that file itself."
            )
        member = members[0]
        _check_size(member.file_size)
        try:
            inner = archive.read(member)
        except (RuntimeError, zipfile.BadZipFile, NotImplementedError, zlib.error) as exc:
            raise UserError(
                f"'{member.filename}' could not be taken out of the zip ({exc})."
            ) from None
        return Unpacked(inner, member.filename, "zip", member.filename)
    return Unpacked(data, name)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UserError(
            f"The file does not look like text, and as a zip archive it is damaged ({exc})."
        ) from None


def _check_size(size: int) -> None:
    if size > MAX_UNPACKED_BYTES:
        raise UserError(
            f"The packed file holds more than {MAX_UNPACKED_BYTES // 1024**2} MB; "
            "use a smaller sample of it."
        )


def is_workbook(data: bytes) -> bool:
    """An Excel .xlsx file: a zip holding `xl/workbook.xml`."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        return "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False


def binary_format(data: bytes) -> str | None:
    """'xlsx' or 'parquet' for those, None for bytes to be decoded as text."""
    if data.startswith(_OLE):
        raise UserError(
            "The file is in the older Excel format (.xls) or another old Office format; "
            "save it as .xlsx or CSV and try again."
        )
    if is_workbook(data):
        return "xlsx"
    if data.startswith(b"PAR1"):
        return "parquet"
    return None


def _workbook(data: bytes) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise UserError(
            f"The Excel file could not be read ({type(exc).__name__}: {exc}); "
            "open and save it again in Excel, or save it as CSV."
        ) from None


def read_sheet(data: bytes, sheet: str | None) -> tuple[str, Cells, list[str]]:
    """The sheet named, else the one with the most rows holding data (the first of
    equals): a README or a header-only first sheet is not the table. Returns its name,
    its cells, and the names of all sheets (to choose from)."""
    book = _workbook(data)
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise UserError(
            f"The workbook has no sheet named '{sheet}'; its sheets: {', '.join(names)}."
        )
    chosen, rows, most = "", [], -1
    for name in [sheet] if sheet is not None else names:
        cells = _sheet_rows(book, name)  # only the fullest so far is kept
        filled = sum(1 for row in cells if any(cell.strip() for cell in row))
        if filled > most:  # the first of equals stays
            chosen, rows, most = name, cells, filled
    if sheet is None and not most:
        raise UserError(f"The workbook's sheets ({', '.join(names)}) are all empty.")
    return chosen, Cells(None, rows), names


def _sheet_rows(book: pd.ExcelFile, name: str) -> list[list[str]]:
    try:
        frame = book.parse(name, header=None, dtype=str)
    except Exception as exc:  # as in _workbook
        raise UserError(
            f"Sheet '{name}' could not be read ({type(exc).__name__}: {exc})."
        ) from None
    return frame.fillna("").to_numpy(dtype=object).tolist()


def read_parquet(data: bytes) -> Cells:
    try:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a damaged file
        raise UserError(
            f"The Parquet file could not be read ({type(exc).__name__}: {exc})."
        ) from None
    names = [str(c) for c in frame.columns]
    cells = [frame[c].astype(str).where(frame[c].notna(), "") for c in frame.columns]
    return Cells(names, [list(row) for row in zip(*cells, strict=True)])


def json_format(text: str) -> str | None:
    """'jsonl' (an object per line), 'json' (a list of objects), or None for other text."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        try:
            return "jsonl" if isinstance(json.loads(stripped.split("\n", 1)[0]), dict) else None
        except json.JSONDecodeError:
            return None  # a text whose first line starts with '{'
    return None


def read_json_records(text: str, form: str) -> Cells:
    """Records as rows; the columns are every key, in the order first seen."""
    if form == "json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"The file starts like JSON but is not JSON ({exc.msg} at line {exc.lineno})."
            ) from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise UserError(
                "The JSON file is not a list of records ({...}); a table needs one object per row."
            )
    else:
        records = []
        for number, line in enumerate(text_lines(text), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"Line {number} is not JSON ({exc.msg}); JSON Lines needs one object per line."
                ) from None
            if not isinstance(record, dict):
                raise UserError(
                    f"Line {number} is not a JSON object; JSON Lines needs one object per line."
                )
            records.append(record)
    names = list(dict.fromkeys(key for record in records for key in record))
    return Cells(names, [[_cell(record.get(key)) for key in names] for record in records])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
