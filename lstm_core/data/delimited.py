"""Delimited text to rows: which delimiter, and whether '"' quotes fields.

A tab-separated file such as the SMS Spam Collection needs no quoting, yet one text
starting with a stray '"' makes a CSV reader swallow the lines after it into that text.
Such a reading shows as a field holding a line break followed by something shaped like a
row (as many fields as the rows have, one of them a value its column holds elsewhere, such
as a label or an id); a tab-separated file is then read without quote processing when that
gives every row the same number of fields, and the rows it changed are counted.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from lstm_core.domain.errors import UserError
from lstm_core.domain.wording import counted

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": "none"}
_SNIFF_CHARS = 64_000
_PROGRESS_ROWS = 50_000
NUMERIC_SHARE = 0.9  # of a column's values, for it to be a column of numbers

csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class DelimitedRows:
    rows: list[list[str]]
    quoting: bool
    quote_free_rows_changed: int = 0  # rows read differently than with quoting
    # Where quoting was turned off here: the rows with content that quoting read (header
    # included), None where quoting could not read the file at all.
    quoted_rows: int | None = None
    quoting_turned_off: bool = False


def sniff_delimiter(text: str, preferred: str = "") -> str:
    """Pick the delimiter that splits the most lines into the same number of fields (> 1)."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    candidates = sorted(DELIMITERS, key=lambda d: d != preferred)
    best, best_score = "", 0.0
    for delimiter in candidates:
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            widths = [len(r) for r in reader if r]
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = count / len(widths) if width > 1 else 0.0
        if score > best_score + 1e-9:
            best, best_score = delimiter, score
    return best if best_score >= 0.5 else ""


def text_lines(text: str) -> list[str]:
    """A text file's lines: only '\\n', '\\r\\n' and '\\r' end one (`str.splitlines` also
    splits at U+2028, U+0085 and form feeds, which JSON and texts may hold). The exported
    script reads lines the same way (`io.StringIO(text, newline=None)`)."""
    return [line.removesuffix("\n") for line in io.StringIO(text, newline=None)]


def parse_rows(
    text: str, delimiter: str, quoting: bool, progress: Callable[[float], None]
) -> list[list[str]]:
    """All rows; `progress` hears the share of lines read so far."""
    if not delimiter:
        return [[line] for line in text_lines(text)]
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
    )
    lines = text.count("\n") + 1
    rows: list[list[str]] = []
    for row in reader:
        rows.append(row)
        if len(rows) % _PROGRESS_ROWS == 0:
            progress(min(reader.line_num / lines, 1.0))
    return rows


def read_delimited(
    text: str,
    delimiter: str,
    quoting: bool | None,
    warnings: list[str],
    progress: Callable[[float], None],
) -> DelimitedRows:
    """Rows read with quoting (True), without (False), or as reads the file whole (None)."""
    try:
        quoted, failure = parse_rows(text, delimiter, True, progress), None
    except csv.Error as exc:
        quoted, failure = None, exc
    swallowed = _row_shaped_lines(quoted, delimiter) if quoted and '"' in text else 0
    free = None
    chosen_here = quoting is None
    if quoting is None:
        quoting = True
        if delimiter == "\t" and (quoted is None or swallowed):
            free = parse_rows(text, delimiter, False, progress)
            quoting = len({len(r) for r in _filled(free)}) != 1
    if quoting:
        if quoted is None:
            raise UserError(
                f"The file could not be read as a table ({failure}); check its quoting."
            )
        if swallowed:
            warnings.append(
                f"In quoted texts, {counted(swallowed, 'line break')} "
                f"{'is' if swallowed == 1 else 'are'} followed by what looks like another row: "
                "a stray '\"' may have joined rows into one. Check the quotes in the file."
            )
        return DelimitedRows(quoted, True)
    free = free if free is not None else parse_rows(text, delimiter, False, progress)
    quoted_rows = len(_filled(quoted)) if quoted is not None else None
    return DelimitedRows(free, False, _changed(free, quoted), quoted_rows, chosen_here)


def _filled(rows: list[list[str]]) -> list[list[str]]:
    return [r for r in rows if any(cell.strip() for cell in r)]


def _common_width(rows: list[list[str]]) -> int:
    widths = Counter(len(r) for r in _filled(rows))
    return widths.most_common(1)[0][0] if widths else 0


def _row_shaped_lines(rows: list[list[str]], delimiter: str) -> int:
    """Lines after a line break inside a field that read as a row: as many fields as most
    rows, one of them a value its column holds elsewhere. A paragraph of a quoted article
    with one comma has the width of a two-column row, but no label or id where they go."""
    width = _common_width(rows)
    if width < 2:
        return 0
    lines = [
        fields
        for row in rows
        for cell in row
        if "\n" in cell
        for line in cell.splitlines()[1:]
        if len(fields := next(csv.reader([line], delimiter=delimiter), [])) == width
    ]
    if not lines:
        return 0
    columns = [_ColumnValues.of(rows, position, width) for position in range(width)]
    return sum(1 for fields in lines if any(map(_ColumnValues.holds, columns, fields)))


@dataclass(frozen=True)
class _ColumnValues:
    """What a column's cells look like: the values it repeats (labels), and whether they
    are numbers (ids)."""

    repeated: frozenset[str]
    numeric: bool

    @classmethod
    def of(cls, rows: list[list[str]], position: int, width: int) -> _ColumnValues:
        values = Counter(r[position].strip() for r in rows if len(r) == width)
        values.pop("", None)
        numbers = sum(count for value, count in values.items() if is_number(value))
        return cls(
            frozenset(v for v, count in values.items() if count > 1),
            bool(values) and numbers >= NUMERIC_SHARE * values.total(),
        )

    def holds(self, field: str) -> bool:
        value = field.strip()
        return value in self.repeated or (self.numeric and is_number(value))


def is_number(value: str) -> bool:
    """What float() reads: '3', '-2.5', '1e3', 'nan'."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def _changed(free: list[list[str]], quoted: list[list[str]] | None) -> int:
    """Rows of the quote-free reading that the quoted reading does not have."""
    if quoted is None:
        return len(_filled(free))
    missing = Counter(map(tuple, _filled(free))) - Counter(map(tuple, _filled(quoted)))
    return sum(missing.values())
