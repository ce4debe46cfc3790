"""The exported script's lines that read the run's data file as the workbench read it (its
`Reading`: format, encoding, delimiter, quoting, header, packing), written in as plain
arguments, and the repairs the workbench makes after reading (blank rows, column names,
text spilled over at an unquoted delimiter, mojibake) written out as a few lines of their
own. `lstm_core.insight.code_export` puts them in the script.
"""

from __future__ import annotations

import textwrap

from lstm_core.data.intake import SPILL_MAX_FILLED_SHARE
from lstm_core.data.reading import Reading
from lstm_core.data.text_decoding import MOJIBAKE_PATTERN

GUESSED_TABLE = '''
def read_table(path):
    """The workbench kept no record of how the run's file was read (its dataset was saved
    before it kept one), so this guesses as it did then: UTF-8, else Windows-1252, the
    delimiter sniffed. The rows may differ from the run's."""
    print(f"note: {path} is read by a guess; its rows may differ from the run's",
          file=sys.stderr)
    for encoding in ("utf-8", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False,
                               sep=None, engine="python")
        except UnicodeDecodeError:
            continue
    sys.exit(f"{path} is neither UTF-8 nor Windows-1252 text")
'''

FIX_MOJIBAKE = '''
def fix_mojibake(cell):
    """ftfy's repair of UTF-8 that was decoded twice ("cafÃ©" -> "café"), tried where the
    workbench tries it: on a cell holding a UTF-8 lead byte's character followed by a
    continuation byte's, as Windows-1252 or Latin-1 shows them. As in the workbench, a
    repair that would add a U+FFFD ("Â?" becomes one) is not made."""
    if not MOJIBAKE.search(cell):
        return cell
    repaired = ftfy.fix_encoding(cell)
    return repaired if repaired.count("\\ufffd") <= cell.count("\\ufffd") else cell
'''

JSON_CELL = '''
def json_cell(value):
    """A JSON value as the workbench shows it: null as "", any other non-string as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
'''

COLUMN_NAMES = '''
def free_name(name, taken):
    """name, else name_2, name_3, ...: the first no other column has."""
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return name if name not in taken else f"{name}_{number}"


def column_names(header, width):
    """As the workbench names columns: stripped, a repeated name numbered (text, text_2)
    past every name the header has, a missing one column_N by its position."""
    given = [header[p].strip() if p < len(header) else "" for p in range(width)]
    taken, used, names = {name for name in given if name}, set(), []
    for name in given:
        if name and name in used:
            name = free_name(name, taken | used)
        used.add(name)
        names.append(name)
    taken = {name for name in names if name}
    for position, name in enumerate(names):
        if not name:
            names[position] = free_name(f"column_{position + 1}", taken)
            taken.add(names[position])
    return names
'''

JOIN_SPILLED = '''
def join_spilled(frame, header, delimiter):
    """Text cut at an unquoted delimiter spills into columns with no name. As the
    workbench does, such a column with text in at most {share:.0%} of the rows is joined back
    into the last column kept before it, and one with no text at all is dropped."""
    kept = []
    for position in range(frame.shape[1]):
        cells = frame.iloc[:, position]
        filled = (cells.str.strip() != "").to_numpy()
        named = position < len(header) and header[position].strip() != ""
        if not named and kept and 0 < filled.sum() <= SPILL_SHARE * len(frame):
            target = kept[-1]
            frame.iloc[filled, target] = frame.iloc[filled, target] + delimiter + cells[filled]
        elif named or filled.any():
            kept.append(position)
    return frame.iloc[:, kept]
'''

TABLE = """
def read_table(path):
{docstring}
    rows = [row for row in read_rows(path) if any(cell.strip() for cell in row)]
    header, body = {split}
    width = max(len(row) for row in rows)
    frame = pd.DataFrame([row + [""] * (width - len(row)) for row in body], dtype="str")
    frame.columns = column_names(header, width)
    return {result}
"""

_QUOTING = {True: "csv.QUOTE_MINIMAL", False: "csv.QUOTE_NONE"}
_DATA_NAMES = {
    "tsv": "DATA.tsv",
    "lines": "DATA.txt",
    "jsonl": "DATA.jsonl",
    "json": "DATA.json",
    "xlsx": "DATA.xlsx",
    "parquet": "DATA.parquet",
}


def data_name(reading: Reading | None) -> str:
    """The usage line's example file, shaped like the run's: an xlsx run is not given a CSV."""
    if reading is None:
        return "DATA.csv"
    if reading.compression == "zip":
        return "DATA.zip"
    name = _DATA_NAMES.get(reading.format, "DATA.csv")
    return f"{name}.gz" if reading.compression == "gzip" else name


def _literal(value: str) -> str:
    """`value` as a Python string literal, in double quotes like the rest of the script."""
    text = repr(value)
    return f'"{text[1:-1]}"' if text[0] == "'" and '"' not in text else text


def in_docstring(text: str) -> str:
    """A file, sheet or member name made safe inside the script's docstrings."""
    return text.replace('"', "'").replace("\\", "/")


def _docstring(text: str) -> str:
    """`text` as a function's docstring, wrapped at 88 columns."""
    return textwrap.fill(f'"""{text}"""', 88, initial_indent="    ", subsequent_indent="    ")


def repairs_mojibake(reading: Reading) -> bool:
    """Only where the workbench repaired a row: ftfy is one more package to install."""
    return reading.encoding is not None and reading.fix_mojibake and reading.mojibake_rows > 0


def _spills(reading: Reading) -> bool:
    """The workbench joins spilled text back only in delimited text with column names."""
    return reading.format in ("csv", "tsv") and reading.header


# A text's lines as the workbench reads them (`delimited.text_lines`): only \n, \r\n and \r
# end a line, never U+2028 or a form feed inside a JSON string or a text.
_LINES = '(line.removesuffix("\\n") for line in io.StringIO(text, newline=None))'


def modules(reading: Reading | None) -> set[str]:
    """The standard-library modules the script's reading needs."""
    if reading is None:
        return set()
    needed = (
        {{"gzip": "gzip", "zip": "zipfile"}[reading.compression]} if reading.compression else set()
    )
    if reading.format in ("csv", "tsv"):
        needed |= {"csv", "io"}
    if reading.format in ("lines", "jsonl"):
        needed.add("io")
    if reading.compression and reading.encoding is None:
        needed.add("io")
    return needed


def _unpacking(reading: Reading) -> tuple[list[str], str]:
    """Lines that put the file's text (a text format) or a source pandas reads (a workbook,
    Parquet) in a variable, and that variable's name."""
    member = _literal(reading.member or "")
    if reading.encoding is not None:
        encoding = _literal(reading.encoding)
        if reading.compression == "zip":
            opened = "zipfile.ZipFile(path) as archive"
            text = f'archive.read({member}).decode({encoding}, errors="replace")'
        else:
            opener = 'gzip.open(path, "rt", ' if reading.compression == "gzip" else "open(path, "
            opened = f'{opener}encoding={encoding}, errors="replace", newline="") as handle'
            text = "handle.read()"
        return [f"with {opened}:", f"    text = {text}"], "text"
    if reading.compression == "zip":
        opened, data = "zipfile.ZipFile(path) as archive", f"archive.read({member})"
    elif reading.compression == "gzip":
        opened, data = "gzip.open(path) as handle", "handle.read()"
    else:
        return [], "path"
    return [f"with {opened}:", f"    source = io.BytesIO({data})"], "source"


def _parsing(reading: Reading, source: str) -> list[str]:
    """Lines that turn that text or source into rows of strings, and return them."""
    fix = repairs_mojibake(reading)
    if reading.format in ("csv", "tsv"):
        rows = (
            f'csv.reader(io.StringIO(text, newline=""), delimiter={_literal(reading.delimiter)}, '
            f"quoting={_QUOTING[reading.quoting]})"
        )
        if fix:
            return [
                f"rows = {rows}",
                "return [[fix_mojibake(cell) for cell in row] for row in rows]",
            ]
        return [f"return list({rows})"]
    if reading.format == "lines":
        line = "fix_mojibake(line)" if fix else "line"
        return [f"return [[{line}] for line in {_LINES}]"]
    if reading.format in ("jsonl", "json"):
        cell = "json_cell(record.get(key))"
        records = (
            "json.loads(text)"
            if reading.format == "json"
            else f"[json.loads(line) for line in {_LINES} if line.strip()]"
        )
        return [
            f"records = {records}",
            "names = list(dict.fromkeys(key for record in records for key in record))",
            f"return [names, *([{f'fix_mojibake({cell})' if fix else cell} for key in names] "
            "for record in records)]",
        ]
    if reading.format == "xlsx":
        return [
            f"frame = pd.read_excel({source}, sheet_name={_literal(reading.sheet or '')}, "
            'header=None, dtype=str, engine="openpyxl")',
            'return frame.fillna("").to_numpy(dtype=object).tolist()',
        ]
    return [
        f'frame = pd.read_parquet({source}, engine="pyarrow")',
        'cells = frame.astype(str).where(frame.notna(), "")',
        "return [[str(name) for name in frame.columns], *cells.to_numpy(dtype=object).tolist()]",
    ]


def _read_rows(reading: Reading) -> str:
    """The script's `read_rows`, the run's `Reading` written into it."""
    said = [f"The file's rows as lists of strings, read as the workbench read it: "
            f"{in_docstring(reading.describe())}."]  # fmt: skip
    if reading.encoding is not None:
        found = reading.undecodable_bytes
        counted = f" (it found {found:,} in {reading.undecodable_rows:,} rows)" if found else ""
        said.append(f"Bytes that do not decode show as U+FFFD, as in the workbench{counted}.")
        if repairs_mojibake(reading):
            said.append(
                "Text decoded twice is repaired, as the workbench did in "
                f"{reading.mojibake_rows:,} rows."
            )
    if reading.format in ("csv", "tsv") and not reading.quoting:
        said.append(
            f"Quotes are plain characters ({reading.quote_free_rows_changed:,} rows differ from "
            "a reading with quoting)."
        )
    unpacking, source = _unpacking(reading)
    body = "".join(f"    {line}\n" for line in [*unpacking, *_parsing(reading, source)])
    return f"def read_rows(path):\n{_docstring(' '.join(said))}\n{body}"


def _read_table(reading: Reading) -> str:
    """The script's `read_table`: the workbench's table made of those rows."""
    said = [
        "The file as the workbench's table of strings. These lines repeat its intake (the "
        "script does not import the workbench): blank rows skipped,",
        "the first row naming the columns,"
        if reading.header
        else "the columns named column_1, column_2, ... (the first row is data),",
        "short rows padded with empty cells",
    ]
    if _spills(reading):
        said[-1] += ", and text spilled over at an unquoted delimiter joined back"
        result = f"join_spilled(frame, header, {_literal(reading.delimiter or '')})"
    else:
        result = "frame"
    return TABLE.format(
        docstring=_docstring(" ".join(said) + "."),
        split="rows[0], rows[1:]" if reading.header else "[], rows",
        result=result,
    )


def reading_code(reading: Reading | None) -> tuple[str, str]:
    """The module-level lines and the functions that read the file as the run's dataset was."""
    if reading is None:
        return "", GUESSED_TABLE.strip()
    constants, functions = [], [_read_rows(reading)]
    if reading.format in ("csv", "tsv"):
        constants.append("csv.field_size_limit(2**31 - 1)  # as the workbench: texts over 128 KB")
    if repairs_mojibake(reading):
        constants.append(f"MOJIBAKE = re.compile({MOJIBAKE_PATTERN!r})  # 'Ã©' for 'é'")
        functions.append(FIX_MOJIBAKE)
    if reading.format in ("jsonl", "json"):
        functions.append(JSON_CELL)
    functions.append(COLUMN_NAMES)
    if _spills(reading):
        constants.append(f"SPILL_SHARE = {SPILL_MAX_FILLED_SHARE!r}")
        functions.append(JOIN_SPILLED.format(share=SPILL_MAX_FILLED_SHARE))
    functions.append(_read_table(reading))
    return "".join(f"\n{line}" for line in constants), "\n\n\n".join(f.strip() for f in functions)
