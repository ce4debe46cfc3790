"""Turn the bytes of an uploaded CSV / TSV / TXT into a DataFrame and a plain-words report.

Real files are messy (the SMS spam set is cp1252, has three junk columns and rows whose
text spilled over at unquoted commas), so every repair made here is reported, and nothing
here raises anything but a `UserError` with one sentence. No TensorFlow on this path.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

import pandas as pd

from lstm_core.errors import UserError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": "none"}
MAX_LABEL_CLASSES = 50
SPILL_MAX_FILLED_SHARE = 0.05
LABEL_NAME_HINTS = ("label", "labels", "class", "category", "target", "sentiment", "y")
_SNIFF_CHARS = 64_000
# Undecodable bytes, as a share of all non-ASCII bytes, up to which a file is read as UTF-8
# with replacements (in a cp1252 file nearly every non-ASCII byte is invalid UTF-8).
MOSTLY_UTF8 = 0.5
_ASCII = bytes(range(128))
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_PROFILE_SAMPLE = 20_000

csv.field_size_limit(2**31 - 1)


@dataclass
class ColumnProfile:
    name: str
    kind: str  # text, label, numeric or empty
    filled: int
    distinct: int
    mean_length: float


@dataclass
class LoadReport:
    encoding: str
    delimiter: str
    has_header: bool
    rows: int
    columns: list[ColumnProfile]
    suggested_text: str | None
    suggested_label: str | None
    warnings: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    undecodable_bytes: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def decode_bytes(data: bytes) -> tuple[str, str, int]:
    """Decode with the BOMs first, then UTF-8, then the Windows / Latin-1 fallbacks.

    Returns the text, the encoding and how many bytes could not be decoded (shown as U+FFFD).
    A file that is UTF-8 but for a few broken bytes (a cut multi-byte character, a pasted
    Windows quote) stays UTF-8: read as cp1252, all its accents and emoji would turn into
    "Ã©" and "â€¦" instead.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _utf8_with_replacements(data[len(codecs.BOM_UTF8) :], "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        genuine = data.decode("utf-16", errors="ignore").count("\ufffd")
        return text, "utf-16", text.count("\ufffd") - genuine  # one per broken code unit
    non_ascii = len(data.translate(None, _ASCII))
    text, encoding, bad = _utf8_with_replacements(data, "utf-8")
    if bad <= MOSTLY_UTF8 * non_ascii:
        return text, encoding, bad
    try:
        return data.decode("cp1252"), "cp1252", 0
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", 0


def _utf8_with_replacements(data: bytes, encoding: str) -> tuple[str, str, int]:
    """UTF-8 with each undecodable byte replaced by U+FFFD, and their count."""
    escaped = data.decode("utf-8", errors="surrogateescape")  # a bad byte -> one surrogate
    bad = len(_ESCAPED_BYTE.findall(escaped))
    return (_ESCAPED_BYTE.sub("\ufffd", escaped) if bad else escaped), encoding, bad


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
        if _is_number(value) and below and sum(map(_is_number, below)) / len(below) > 0.9:
            return False
    return True


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _unique_names(raw: list[str], warnings: list[str]) -> list[str | None]:
    """Blank names become None (unnamed); repeated names get a numeric suffix."""
    seen: Counter[str] = Counter()
    names: list[str | None] = []
    for cell in raw:
        name = cell.strip()
        if not name:
            names.append(None)
            continue
        seen[name] += 1
        if seen[name] > 1:
            new_name = f"{name}_{seen[name]}"
            warnings.append(f"Column name '{name}' appears more than once; copy is '{new_name}'.")
            name = new_name
        names.append(name)
    return names


def _repair_spilled_columns(
    df: pd.DataFrame, names: list[str | None], delimiter: str, warnings: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Drop unnamed columns that are empty; join nearly-empty ones back into the text they split from."""
    keep: list[tuple[int, str]] = []
    empty: list[str] = []
    spilled: dict[int, tuple[str, list[str], pd.Series]] = {}
    for position, name in enumerate(names):
        label = name or f"column_{position + 1}"
        filled = df.iloc[:, position].str.strip() != ""
        n_filled = int(filled.sum())
        if name is None and n_filled == 0:
            empty.append(label)
        elif name is None and keep and n_filled <= SPILL_MAX_FILLED_SHARE * len(df):
            target, target_name = keep[-1]
            rows = filled.to_numpy()
            df.iloc[rows, target] = df.iloc[rows, target] + delimiter + df.iloc[rows, position]
            _, labels, touched = spilled.get(target, (target_name, [], filled & False))
            spilled[target] = (target_name, labels + [label], touched | filled)
        else:
            keep.append((position, label))
    for target_name, labels, touched in spilled.values():
        warnings.append(
            f"{int(touched.sum()):,} rows had text spilling over into unnamed columns "
            f"({', '.join(labels)}) at an unquoted '{delimiter}'; it was joined back into "
            f"'{target_name}' and those columns dropped."
        )
    if empty:
        warnings.append(f"Dropped {len(empty)} empty unnamed column(s): {', '.join(empty)}.")
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


def read_table(data: bytes, filename: str = "") -> tuple[pd.DataFrame, LoadReport]:
    """Read CSV / TSV / TXT bytes into string columns and say what was found and repaired."""
    if not data or not data.strip():
        raise UserError("The file is empty; choose a CSV, TSV or TXT file with a row per text.")
    text, encoding, undecodable = decode_bytes(data)
    if "\x00" in text[:_SNIFF_CHARS]:
        raise UserError(
            "The file does not look like text (it holds binary data); "
            "save it as CSV or TSV and try again."
        )
    preferred = "\t" if filename.lower().endswith((".tsv", ".tab")) else ""
    delimiter = sniff_delimiter(text, preferred)
    if delimiter:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise UserError(
                f"The file could not be read as a table ({exc}); check its quoting."
            ) from None
    else:
        rows = [[line] for line in text.splitlines()]
    warnings: list[str] = []
    if undecodable:
        warnings.append(
            f"{undecodable:,} byte(s) could not be decoded as {encoding} and show as \ufffd; "
            "re-save the file as UTF-8 to keep those characters."
        )
    blank = sum(1 for r in rows if not any(cell.strip() for cell in r))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise UserError("The file has no rows with any content; check that it is the right file.")

    if len(rows) == 1:
        raise UserError(
            "The file has a single row; it needs a row per text (below an optional header)."
        )
    has_header = _looks_like_header(rows[0], rows[1:200])
    header = rows[0] if has_header else []
    body = rows[1:] if has_header else rows
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
    if blank:
        warnings.append(f"Skipped {blank:,} blank rows.")
    if too_wide:
        warnings.append(f"{too_wide:,} rows had more fields than the header has names.")

    df = pd.DataFrame(padded, dtype="str")
    df, dropped = _repair_spilled_columns(df, names, delimiter, warnings)

    columns = [profile_column(str(name), df[name]) for name in df.columns]
    suggested_text, suggested_label = _suggest(columns)
    if suggested_text is not None:
        texts = df[suggested_text]
        duplicated = int(texts[texts.str.strip() != ""].duplicated().sum())
        if duplicated:
            warnings.append(
                f"{duplicated:,} texts in '{suggested_text}' repeat an earlier one "
                f"({len(texts) - duplicated:,} distinct); repeats can land in both train and test."
            )
    report = LoadReport(
        encoding=encoding,
        delimiter=DELIMITER_NAMES[delimiter],
        has_header=has_header,
        rows=len(df),
        columns=columns,
        suggested_text=suggested_text,
        suggested_label=suggested_label,
        warnings=warnings,
        dropped_columns=dropped,
        undecodable_bytes=undecodable,
    )
    return df, report


def read_path(path: str) -> tuple[pd.DataFrame, LoadReport]:
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
    return read_table(data, path)
