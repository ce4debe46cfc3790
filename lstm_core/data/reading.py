"""How a table was read from its bytes, as one record kept with the dataset.

The same bytes read with the same `Reading` give the same rows (`intake.read_table(data,
reading=...)`), so a dataset can say later exactly how its file was read, and an exported
script can pass the same arguments to pandas. The settings come first; the counts after
them are what that reading found and repaired, for the record (they are not settings).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

FORMAT_NAMES = {
    "csv": "delimited text",
    "tsv": "tab-separated text",
    "lines": "text with one row per line",
    "jsonl": "JSON Lines",
    "json": "a JSON list of records",
    "xlsx": "an Excel workbook",
    "parquet": "Parquet",
}
# What a reading found, for the record: two readings that differ only here read alike.
FOUND_COUNTS = frozenset(
    {"undecodable_rows", "undecodable_bytes", "mojibake_rows", "quote_free_rows_changed"}
)


@dataclass(frozen=True)
class Reading:
    """Everything needed to read a file's bytes again into the same rows.

    `format`: csv (any delimiter but tab), tsv, lines (no delimiter), jsonl, json, xlsx or
    parquet. `compression`: None, "gzip" or "zip" (then `member` names the file read from
    it). `encoding`: the text encoding (None for xlsx and parquet); bytes it cannot decode
    show as U+FFFD, like Python's and pandas' `errors="replace"`. `delimiter`: the field
    separator of csv / tsv. `quoting`: whether '"' quotes fields (pandas' `QUOTE_MINIMAL`)
    or is a plain character (`QUOTE_NONE`). `header`: the first row names the columns.
    `sheet`: the workbook sheet read. `fix_mojibake`: text decoded twice ("cafÃ©") is
    repaired with ftfy's `fix_encoding`, cell by cell.

    Found: `undecodable_rows` / `undecodable_bytes` (shown as U+FFFD), `mojibake_rows`
    (repaired), `quote_free_rows_changed` (rows that reading without quote processing
    gave differently from the quoted reading).
    """

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    quoting: bool = True
    header: bool = True
    compression: str | None = None
    member: str | None = None
    sheet: str | None = None
    fix_mojibake: bool = True
    undecodable_rows: int = 0
    undecodable_bytes: int = 0
    mojibake_rows: int = 0
    quote_free_rows_changed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Reading:
        """Keys this version does not know (written by a newer one) are left out."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def settings(self) -> dict:
        """How the bytes are read, without what that found: the same settings read the
        same bytes into the same rows."""
        return {k: v for k, v in self.to_dict().items() if k not in FOUND_COUNTS}

    def describe(self) -> str:
        """One phrase for a person: 'tab-separated text, decoded as utf-8, without quote
        processing, from the zip member X'."""
        first = FORMAT_NAMES.get(self.format, self.format)
        parts = [first if self.sheet is None else f"{first} (sheet '{self.sheet}')"]
        if self.encoding:
            parts.append(f"decoded as {self.encoding}")
        if self.format in ("csv", "tsv") and not self.quoting:
            parts.append("without quote processing")
        if self.compression == "zip":
            parts.append(f"from the zip member '{self.member}'")
        elif self.compression:
            parts.append(f"unpacked from {self.compression}")
        return ", ".join(parts)
