"""Turn the bytes of a user's table into string columns and a plain-words report.

Real files are messy (the SMS spam set is cp1252, has three junk columns and rows whose
text spilled over at unquoted commas; a tweet file has UTF-8 characters with bytes lost;
the SMS Spam Collection is tab-separated with stray quotes), so every repair made here is
reported, and how the file was read is kept as a `Reading` that reads the same bytes
again the same way. Nothing here raises anything but a `UserError` with one sentence. No
TensorFlow on this path. The formats themselves live in `text_decoding`, `delimited` and
`table_formats`; this module puts their answers into one table and one report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import pandas as pd

from lstm_core.data.delimited import (
    DELIMITER_NAMES,
    DelimitedRows,
    is_number,
    read_delimited,
    sniff_delimiter,
)
from lstm_core.data.reading import Reading
from lstm_core.data.table_formats import (
    Cells,
    binary_format,
    json_format,
    read_json_records,
    read_parquet,
    read_sheet,
    unpack,
)
from lstm_core.data.text_decoding import (
    UNDECODABLE_START,
    UTF8_FAMILY,
    decode_bytes,
    fix_mojibake,
    has_undecodable,
    may_hold_mojibake,
    show_undecodable,
)
from lstm_core.domain.errors import UserError
from lstm_core.domain.wording import counted

MAX_LABEL_CLASSES = 50
SPILL_MAX_FILLED_SHARE = 0.05
LABEL_NAME_HINTS = ("label", "labels", "class", "category", "target", "sentiment", "y")
EXAMPLES, EXAMPLE_CHARS = 2, 160
CHANGE_CONTEXT = 40  # characters shown on either side of a repair's first change
MAX_SHEETS_NAMED = 10
_SNIFF_CHARS = 64_000
_PROFILE_SAMPLE = 20_000

ReadProgress = Callable[[float, str], None]  # share done (0 to 1), what is being done


@dataclass
class ColumnProfile:
    name: str
    kind: str  # text, label, numeric or empty
    filled: int
    distinct: int
    mean_length: float


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


def _suggest(columns: list[ColumnProfile]) -> tuple[str | None, str | None]:
    texts = [c for c in columns if c.kind == "text"]
    labels = [c for c in columns if c.kind == "label" and c.distinct >= 2]
    text = max(texts, key=lambda c: c.mean_length).name if texts else None
    named = [c for c in labels if c.name.strip().lower() in LABEL_NAME_HINTS]
    label = (named or sorted(labels, key=lambda c: c.distinct))[0].name if labels else None
    return text, label


@dataclass
class _Damage:
    """What `_show_damage` found in the rows: undecodable bytes and repaired mojibake."""

    undecodable_rows: int = 0
    undecodable_examples: list[str] = field(default_factory=list)
    mojibake_rows: int = 0
    mojibake_example: tuple[str, str] | None = None


def _show_damage(rows: list[list[str]], fix: bool, undecodable: bool) -> _Damage:
    """Show undecodable bytes as U+FFFD and repair mojibake, in place, counting rows."""
    damage = _Damage()
    for index, row in enumerate(rows):
        if undecodable and any(has_undecodable(cell) for cell in row):
            damage.undecodable_rows += 1
            if len(damage.undecodable_examples) < EXAMPLES:
                damage.undecodable_examples.append(_example(row))
            row[:] = [show_undecodable(cell) for cell in row]
        if fix:
            repaired = [fix_mojibake(cell) for cell in row]
            if repaired != row:
                damage.mojibake_rows += 1
                if damage.mojibake_example is None:
                    damage.mojibake_example = next(
                        (old, new) for old, new in zip(row, repaired, strict=True) if old != new
                    )
                rows[index] = repaired
    return damage


def _example(row: list[str]) -> str:
    """The first damaged cell, cut around its first undecodable byte, shown as U+FFFD."""
    cell = next(c for c in row if has_undecodable(c))
    start = max(0, cell.index(UNDECODABLE_START) - EXAMPLE_CHARS // 3)
    return show_undecodable(cell[start : start + EXAMPLE_CHARS])


def _around_change(old: str, new: str) -> tuple[str, str]:
    """Both texts cut to one window from a little before their first difference: a long
    review's first 160 characters seldom show what a repair changed."""
    first = next(
        (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
        min(len(old), len(new)),
    )
    start, end = max(0, first - CHANGE_CONTEXT), first + CHANGE_CONTEXT

    def cut(text: str) -> str:  # "..." as mojibake is never ASCII, unlike "…"
        return ("..." if start else "") + text[start:end] + ("..." if len(text) > end else "")

    return cut(old), cut(new)


def _damage_warnings(damage: _Damage, undecodable_bytes: int, encoding: str) -> list[str]:
    warnings = []
    if undecodable_bytes:
        warnings.append(
            f"{counted(undecodable_bytes, 'byte')} could not be decoded as {encoding}, in "
            f"{counted(damage.undecodable_rows, 'row')}; each place shows as \ufffd. If the "
            "text looks wrong, choose the file's encoding; else re-save it as UTF-8 to keep "
            "those characters."
        )
    if damage.mojibake_example is not None:
        old, new = _around_change(*damage.mojibake_example)
        warnings.append(
            f"Repaired text that had been decoded twice in {counted(damage.mojibake_rows, 'row')} "
            f"(with ftfy), e.g. '{old}' became '{new}'."
        )
    return warnings


def _text_cells(
    data: bytes,
    filename: str,
    reading: Reading | None,
    encoding: str | None,
    warnings: list[str],
    step: ReadProgress,
) -> tuple[Cells, Reading, _Damage, DelimitedRows | None]:
    """Decode and parse a text format: its cells, how it was read, the damage shown, and
    for delimited text how quoting went."""
    decoded = decode_bytes(data, encoding or (reading.encoding if reading else None))
    if "\x00" in decoded.text[:_SNIFF_CHARS]:
        raise UserError(
            f"The file does not look like text (decoded as {decoded.encoding} it holds binary "
            "data); save it as CSV or TSV, or choose its encoding, and try again."
        )
    step(0.1, "Reading rows")
    form = reading.format if reading else json_format(decoded.text)
    delimiter, rows = None, None
    if form in ("jsonl", "json"):
        records = read_json_records(decoded.text, form)
        # a key's undecodable bytes show as U+FFFD too (a marked key cannot name a column)
        cells = Cells([show_undecodable(name) for name in records.names or []], records.rows)
    else:
        if reading is not None:
            delimiter = reading.delimiter or ""
        else:
            preferred = "\t" if filename.lower().endswith((".tsv", ".tab")) else ""
            delimiter = sniff_delimiter(decoded.text, preferred)
        rows = read_delimited(
            decoded.text,
            delimiter,
            reading.quoting if reading else None,
            warnings,
            lambda share: step(0.1 + 0.5 * share, "Reading rows"),
        )
        cells = Cells(None, rows.rows)
        form = {"\t": "tsv", "": "lines"}.get(delimiter, "csv")
    step(0.6, "Repairing")
    fix = reading.fix_mojibake if reading else decoded.encoding in UTF8_FAMILY
    damage = _show_damage(
        cells.rows,
        fix and may_hold_mojibake(decoded.text),
        decoded.undecodable_bytes > 0,
    )
    warnings[:0] = _damage_warnings(damage, decoded.undecodable_bytes, decoded.encoding)
    found = Reading(
        format=form,
        encoding=decoded.encoding,
        delimiter=delimiter,
        quoting=rows.quoting if rows else True,
        fix_mojibake=fix,
        undecodable_rows=damage.undecodable_rows,
        undecodable_bytes=decoded.undecodable_bytes,
        mojibake_rows=damage.mojibake_rows,
        quote_free_rows_changed=rows.quote_free_rows_changed if rows else 0,
    )
    return cells, found, damage, rows


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
    kind = binary_format(unpacked.data)
    sheets: list[str] = []
    damage, delimited = _Damage(), None
    warnings: list[str] = []
    if kind == "xlsx":
        chosen = sheet or (reading.sheet if reading else None)
        name, cells, sheets = read_sheet(unpacked.data, chosen)
        found = Reading(format="xlsx", sheet=name)
        if len(sheets) > 1:
            warnings.append(_sheets_sentence(sheets, name, chosen is not None))
    elif kind == "parquet":
        cells, found = read_parquet(unpacked.data), Reading(format="parquet")
    else:
        cells, found, damage, delimited = _text_cells(
            unpacked.data, unpacked.name, reading, encoding, warnings, step
        )
    step(0.65, "Building the table")
    blank = sum(1 for r in cells.rows if not any(cell.strip() for cell in r))
    rows = [r for r in cells.rows if any(cell.strip() for cell in r)]
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
    found = replace(
        found, header=has_header, compression=unpacked.compression, member=unpacked.member
    )
    width = max(len(header), max(len(r) for r in body))
    too_wide = sum(1 for r in body if header and len(r) > len(header))
    padded = [r + [""] * (width - len(r)) for r in body]
    if has_header:
        names = _unique_names(header + [""] * (width - len(header)), warnings)
    else:
        names = [f"column_{i + 1}" for i in range(width)]
        warnings.append(
            "The first row looks like data, so columns are named column_1, column_2, ..."
        )
    if delimited is not None and delimited.quoting_turned_off:
        warnings.append(_quoting_off_sentence(delimited, int(has_header)))
    if blank:
        warnings.append(f"Skipped {counted(blank, 'blank row')}.")
    if too_wide:
        warnings.append(f"{counted(too_wide, 'row')} had more fields than the header has names.")

    df = pd.DataFrame(padded, dtype="str")
    df, dropped = _repair_spilled_columns(df, names, found.delimiter or "", warnings)

    columns = []
    for position, name in enumerate(df.columns):
        step(0.7 + 0.3 * position / len(df.columns), f"Profiling column '{name}'")
        columns.append(profile_column(str(name), df[name]))
    suggested_text, suggested_label = _suggest(columns)
    if suggested_text is not None:
        texts = df[suggested_text]
        duplicated = int(texts[texts.str.strip() != ""].duplicated().sum())
        if duplicated:
            warnings.append(
                f"{counted(duplicated, 'text')} in '{suggested_text}' "
                f"{'repeats' if duplicated == 1 else 'repeat'} an earlier one "
                f"({len(texts) - duplicated:,} distinct); repeats can land in both train and test."
            )
    step(1.0, "Profiling done")
    report = LoadReport(
        encoding=found.encoding or "",
        delimiter=DELIMITER_NAMES[found.delimiter or ""],
        has_header=has_header,
        rows=len(df),
        columns=columns,
        suggested_text=suggested_text,
        suggested_label=suggested_label,
        reading=found,
        warnings=warnings,
        dropped_columns=dropped,
        undecodable_bytes=found.undecodable_bytes,
        undecodable_rows=found.undecodable_rows,
        undecodable_examples=damage.undecodable_examples,
        sheets=sheets,
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
