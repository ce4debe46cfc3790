"""A text format's bytes as rows of cells: decoded, parsed, and its damage shown or repaired.

Delimited text (CSV, TSV, one text per line) and JSON records. Undecodable bytes show as
U+FFFD and text decoded twice (mojibake) is repaired, each counted in rows and said in a
warning with an example; what was decided is kept as a `Reading`, so the same bytes read
the same way again. Nothing here raises anything but a `UserError` with one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lstm_core.data.delimited import DelimitedRows, read_delimited, sniff_delimiter
from lstm_core.data.reading import Reading
from lstm_core.data.table_formats import Cells, json_format, read_json_records
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

EXAMPLES, EXAMPLE_CHARS = 2, 160
CHANGE_CONTEXT = 40  # characters shown on either side of a repair's first change
_SNIFF_CHARS = 64_000

ReadProgress = Callable[[float, str], None]  # share done (0 to 1), what is being done


@dataclass(frozen=True, eq=False)
class TextCells:
    """A text format read: its cells, how it was read, the damage shown, and for
    delimited text how quoting went."""

    cells: Cells
    reading: Reading
    damage: Damage
    delimited: DelimitedRows | None


@dataclass(frozen=True)
class Damage:
    """What was found in the rows: undecodable bytes (shown as U+FFFD), repaired mojibake."""

    undecodable_rows: int = 0
    undecodable_examples: list[str] = field(default_factory=list)
    mojibake_rows: int = 0
    mojibake_example: tuple[str, str] | None = None


def _show_damage(rows: list[list[str]], fix: bool, undecodable: bool) -> Damage:
    """Show undecodable bytes as U+FFFD and repair mojibake, in place, counting rows."""
    undecodable_rows, examples, mojibake_rows, mojibake_example = 0, [], 0, None
    for index, row in enumerate(rows):
        if undecodable and any(has_undecodable(cell) for cell in row):
            undecodable_rows += 1
            if len(examples) < EXAMPLES:
                examples.append(_example(row))
            row[:] = [show_undecodable(cell) for cell in row]
        if fix:
            repaired = [fix_mojibake(cell) for cell in row]
            if repaired != row:
                mojibake_rows += 1
                if mojibake_example is None:
                    mojibake_example = next(
                        (old, new) for old, new in zip(row, repaired, strict=True) if old != new
                    )
                rows[index] = repaired
    return Damage(undecodable_rows, examples, mojibake_rows, mojibake_example)


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


def _damage_warnings(damage: Damage, undecodable_bytes: int, encoding: str) -> list[str]:
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


def text_cells(
    data: bytes,
    filename: str,
    reading: Reading | None,
    encoding: str | None,
    warnings: list[str],
    step: ReadProgress,
) -> TextCells:
    """Decode and parse a text format; warnings about its damage go first in `warnings`."""
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
    return TextCells(cells, found, damage, rows)
