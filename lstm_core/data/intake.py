"""Turn the bytes of a user's table into string columns and a plain-words report.

Real files are messy (the SMS spam set is cp1252, has three junk columns and rows whose
text spilled over at unquoted commas; a tweet file has UTF-8 characters with bytes lost;
the SMS Spam Collection is tab-separated with stray quotes), so every repair made here is
reported, and how the file was read is kept as a `Reading` that reads the same bytes
again the same way. Nothing here raises anything but a `UserError` with one sentence. No
TensorFlow on this path. The formats themselves live in `text_decoding`, `delimited`,
`table_formats` and `text_cells`, the columns' kinds in `column_profile`; this module puts
their answers into one table and one report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import pandas as pd

from lstm_core.data.column_profile import (
    ColumnProfile,
    profile_column,
    repeats_warning,
    suggest,
)
from lstm_core.data.delimited import DELIMITER_NAMES, DelimitedRows, is_number
from lstm_core.data.reading import Reading
from lstm_core.data.table_formats import (
    Cells,
    Unpacked,
    binary_format,
    read_parquet,
    read_sheet,
    unpack,
)
from lstm_core.data.text_cells import Damage, ReadProgress, text_cells
from lstm_core.domain.errors import UserError
from lstm_core.domain.wording import counted

SPILL_MAX_FILLED_SHARE = 0.05
MAX_SHEETS_NAMED = 10


@dataclass
class LoadReport:
    encoding: str  # "" for formats that are not text (xlsx, parquet)
    delimiter: str
    has_header: bool
    rows: int
    columns: list[ColumnProfile]
    suggested_text: str | None
    suggested_label: str | None
    reading: Reading
    warnings: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    undecodable_bytes: int = 0
    undecodable_rows: int = 0
    undecodable_examples: list[str] = field(default_factory=list)  # shown with U+FFFD
    sheets: list[str] = field(default_factory=list)  # a workbook's, to choose from

    def to_dict(self) -> dict:
        return asdict(self)


def _quiet(share: float, stage: str) -> None:
    """No one is watching the progress."""


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    """A first row is data when a cell is a long sentence or repeats a value seen below it."""
    for i, cell in enumerate(first):
        value = cell.strip()
        if not value:
            continue
        if len(value) > 60 or len(value.split()) > 5:
            return False
        below = [r[i].strip() for r in rest if i < len(r)]
        if below.count(value) >= 2:
            return False
        if is_number(value) and below and sum(map(is_number, below)) / len(below) > 0.9:
            return False
    return True


def free_name(name: str, taken: set[str]) -> str:
    """`name`, else `name_2`, `name_3`, ...: the first no other column has (a header
    `text,text,text_2` names its second column `text_3`, never a second `text_2`)."""
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"


def _unique_names(raw: list[str], warnings: list[str]) -> list[str | None]:
    """Blank names become None (unnamed); a repeated name gets a numeric suffix that no
    column has. The exported script names columns the same way (`code_export`)."""
    given = [cell.strip() for cell in raw]
    taken = {name for name in given if name}
    used: set[str] = set()
    names: list[str | None] = []
    for name in given:
        if not name:
            names.append(None)
            continue
        if name in used:
            new_name = free_name(name, taken | used)
            warnings.append(f"Column name '{name}' appears more than once; copy is '{new_name}'.")
            name = new_name
        used.add(name)
        names.append(name)
    return names


def _repair_spilled_columns(
    df: pd.DataFrame, names: list[str | None], delimiter: str, warnings: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Drop unnamed columns that are empty; join nearly-empty ones back into the text they
    split from at an unquoted delimiter (only delimited text has one)."""
    keep: list[tuple[int, str]] = []
    empty: list[str] = []
    spilled: dict[int, tuple[str, list[str], pd.Series]] = {}
    taken = {name for name in names if name}
    for position, name in enumerate(names):
        label = name or free_name(f"column_{position + 1}", taken)
        taken.add(label)
        filled = df.iloc[:, position].str.strip() != ""
        n_filled = int(filled.sum())
        if name is None and n_filled == 0:
            empty.append(label)
        elif name is None and keep and delimiter and n_filled <= SPILL_MAX_FILLED_SHARE * len(df):
            target, target_name = keep[-1]
            rows = filled.to_numpy()
            df.iloc[rows, target] = df.iloc[rows, target] + delimiter + df.iloc[rows, position]
            _, labels, touched = spilled.get(target, (target_name, [], filled & False))
            spilled[target] = (target_name, labels + [label], touched | filled)
        else:
            keep.append((position, label))
    for target_name, labels, touched in spilled.values():
        warnings.append(
            f"{counted(int(touched.sum()), 'row')} had text spilling over into unnamed columns "
            f"({', '.join(labels)}) at an unquoted '{delimiter}'; it was joined back into "
            f"'{target_name}' and those columns dropped."
        )
    if empty:
        warnings.append(
            f"Dropped {counted(len(empty), 'empty unnamed column')}: {', '.join(empty)}."
        )
    repaired = df.iloc[:, [p for p, _ in keep]].copy()
    repaired.columns = [n for _, n in keep]
    dropped = empty + [label for _, labels, _ in spilled.values() for label in labels]
    return repaired, dropped


def _quoting_off_sentence(rows: DelimitedRows, header: int) -> str:
    """Which reading was used and what it changed, in rows below the header."""
    quoted = "none" if rows.quoted_rows is None else f"{rows.quoted_rows - header:,}"
    now = sum(1 for r in rows.rows if any(cell.strip() for cell in r)) - header
    return (
        "Read without quote processing, as tab-separated files need none: a text starting "
        f"with '\"' had swallowed the lines after it. That gives {counted(now, 'row')} instead "
        f"of {quoted}; {counted(rows.quote_free_rows_changed, 'row')} changed from the quoted "
        "reading."
    )


def _sheets_named(sheets: list[str]) -> str:
    named = ", ".join(f"'{name}'" for name in sheets[:MAX_SHEETS_NAMED])
    return named + (", ..." if len(sheets) > MAX_SHEETS_NAMED else "")


def _sheets_sentence(sheets: list[str], read: str, chosen: bool) -> str:
    """Which sheet of several was read, and how to read another: a small README first
    sheet read without a word once looked like the whole file."""
    why = "as chosen" if chosen else "the one with the most rows"
    return (
        f"The workbook has {len(sheets)} sheets ({_sheets_named(sheets)}); '{read}' was read, "
        f"{why}; choose another with --sheet on the command line or the Sheet picker on the "
        "Data page."
    )


def _too_few_rows(problem: str, advice: str, sheet: str | None, sheets: list[str]) -> UserError:
    """`problem` and `advice` as one sentence; in a workbook of several sheets the advice
    is the other sheets, to choose from."""
    others = [name for name in sheets if name != sheet]
    if not others:
        return UserError(f"{problem}; {advice}.")
    return UserError(
        f"{problem}; the workbook's other sheets: {_sheets_named(others)} (choose one with "
        "--sheet on the command line or the Sheet picker on the Data page)."
    )


@dataclass(frozen=True, eq=False)
class _Source:
    """What a file held, however it was stored: its cells, how they were read, the damage
    shown, how quoting went (delimited text only), and a workbook's sheets."""

    cells: Cells
    reading: Reading
    damage: Damage = field(default_factory=Damage)
    delimited: DelimitedRows | None = None
    sheets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Rows:
    """The non-blank rows under their header (`header` empty when the file has none)."""

    header: list[str]
    body: list[list[str]]
    has_header: bool
    blank: int


def _source(
    unpacked: Unpacked,
    reading: Reading | None,
    encoding: str | None,
    sheet: str | None,
    warnings: list[str],
    step: ReadProgress,
) -> _Source:
    """The cells of a workbook's sheet, a Parquet file, or a text format."""
    kind = binary_format(unpacked.data)
    if kind == "xlsx":
        chosen = sheet or (reading.sheet if reading else None)
        name, cells, sheets = read_sheet(unpacked.data, chosen)
        if len(sheets) > 1:
            warnings.append(_sheets_sentence(sheets, name, chosen is not None))
        return _Source(cells, Reading(format="xlsx", sheet=name), sheets=sheets)
    if kind == "parquet":
        return _Source(read_parquet(unpacked.data), Reading(format="parquet"))
    text = text_cells(unpacked.data, unpacked.name, reading, encoding, warnings, step)
    return _Source(text.cells, text.reading, text.damage, text.delimited)


def _rows(source: _Source, reading: Reading | None) -> _Rows:
    """The header and the rows below it; a sentence if too few rows are left."""
    cells, found, sheets = source.cells, source.reading, source.sheets
    rows = [r for r in cells.rows if any(cell.strip() for cell in r)]
    blank = len(cells.rows) - len(rows)
    where = "The file" if found.sheet is None else f"Sheet '{found.sheet}'"
    right_file = "check that it is the right file"
    if cells.names is not None:
        header, body, has_header = cells.names, rows, True
    else:
        if not rows:
            raise _too_few_rows(
                f"{where} has no rows with any content", right_file, found.sheet, sheets
            )
        if len(rows) == 1:
            raise _too_few_rows(
                f"{where} has a single row",
                "it needs a row per text (below an optional header)",
                found.sheet,
                sheets,
            )
        has_header = reading.header if reading else _looks_like_header(rows[0], rows[1:200])
        header = rows[0] if has_header else []
        body = rows[1:] if has_header else rows
    if not body:
        raise _too_few_rows(
            f"{where} has no rows below its column names", right_file, found.sheet, sheets
        )
    return _Rows(header, body, has_header, blank)


def _frame(rows: _Rows, source: _Source, warnings: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The rows as string columns under unique names, spilled text joined back; also the
    columns dropped."""
    header, body = rows.header, rows.body
    width = max(len(header), max(len(r) for r in body))
    too_wide = sum(1 for r in body if header and len(r) > len(header))
    padded = [r + [""] * (width - len(r)) for r in body]
    if rows.has_header:
        names = _unique_names(header + [""] * (width - len(header)), warnings)
    else:
        names = [f"column_{i + 1}" for i in range(width)]
        warnings.append(
            "The first row looks like data, so columns are named column_1, column_2, ..."
        )
    delimited = source.delimited
    if delimited is not None and delimited.quoting_turned_off:
        warnings.append(_quoting_off_sentence(delimited, int(rows.has_header)))
    if rows.blank:
        warnings.append(f"Skipped {counted(rows.blank, 'blank row')}.")
    if too_wide:
        warnings.append(f"{counted(too_wide, 'row')} had more fields than the header has names.")
    df = pd.DataFrame(padded, dtype="str")
    return _repair_spilled_columns(df, names, source.reading.delimiter or "", warnings)


def _profiles(df: pd.DataFrame, step: ReadProgress) -> list[ColumnProfile]:
    columns = []
    for position, name in enumerate(df.columns):
        step(0.7 + 0.3 * position / len(df.columns), f"Profiling column '{name}'")
        columns.append(profile_column(str(name), df[name]))
    return columns


def read_table(
    data: bytes,
    filename: str = "",
    reading: Reading | None = None,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: ReadProgress | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a table's bytes into string columns and say what was found and repaired.

    The format is judged by the content (a file needs no extension). `reading`, from an
    earlier report, reads the bytes exactly as then; `encoding` and `sheet` are a person's
    choices over what would be guessed.
    """
    step = progress or _quiet
    if not data or not data.strip():
        raise UserError("The file is empty; choose a CSV, TSV or TXT file with a row per text.")
    step(0.0, "Reading the file")
    unpacked = unpack(data, filename)
    warnings: list[str] = []
    source = _source(unpacked, reading, encoding, sheet, warnings, step)
    step(0.65, "Building the table")
    rows = _rows(source, reading)
    found = replace(
        source.reading,
        header=rows.has_header,
        compression=unpacked.compression,
        member=unpacked.member,
    )
    df, dropped = _frame(rows, source, warnings)
    columns = _profiles(df, step)
    suggested = suggest(columns)
    if suggested.text is not None:
        repeats = repeats_warning(df[suggested.text], suggested.text)
        if repeats is not None:
            warnings.append(repeats)
    step(1.0, "Profiling done")
    report = LoadReport(
        encoding=found.encoding or "",
        delimiter=DELIMITER_NAMES[found.delimiter or ""],
        has_header=rows.has_header,
        rows=len(df),
        columns=columns,
        suggested_text=suggested.text,
        suggested_label=suggested.label,
        reading=found,
        warnings=warnings,
        dropped_columns=dropped,
        undecodable_bytes=found.undecodable_bytes,
        undecodable_rows=found.undecodable_rows,
        undecodable_examples=source.damage.undecodable_examples,
        sheets=source.sheets,
    )
    return df, report


def read_path(
    path: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: ReadProgress | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a file from disk, turning a missing or unreadable path into a `UserError`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise UserError(f"There is no file at '{path}'; check the path.") from None
    except IsADirectoryError:
        raise UserError(f"'{path}' is a folder, not a file; give the path of a CSV file.") from None
    except OSError as exc:
        raise UserError(f"Could not read '{path}': {exc.strerror}.") from None
    return read_table(data, path, encoding=encoding, sheet=sheet, progress=progress)
