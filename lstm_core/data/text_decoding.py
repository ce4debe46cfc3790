"""Bytes to text: which encoding, which bytes it cannot decode, and mojibake repaired.

Bytes that do not decode are never hidden: they show as U+FFFD exactly as Python's (and
pandas') `errors="replace"` shows them, so a script given the same encoding reads the same
text, and the rows holding them are counted. While the text is parsed they are marked
with lone surrogates (`UNDECODABLE_START` for the first byte of each run, `UNDECODABLE_REST`
for the others), which no decoded text can hold, so a file's own U+FFFD is not counted.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import ftfy
from charset_normalizer import from_bytes

from lstm_core.domain.errors import UserError

UNDECODABLE_START, UNDECODABLE_REST = "\udcfe", "\udcff"
REPLACEMENT = "\ufffd"  # how an undecodable byte shows
_MARK = "lstm_core.mark_undecodable"
# Undecodable bytes, as a share of all non-ASCII bytes, up to which a file is read as UTF-8
# (in a cp1252 file nearly every non-ASCII byte is invalid UTF-8). Bytes of a damaged
# multi-byte character (`_DAMAGED_UTF8`) do not count against it.
MOSTLY_UTF8 = 0.5
# A multi-byte UTF-8 character one of whose continuation bytes became '?' (`E2 3F A6`), as
# a text passed through a system that could not store it leaves it. A legacy file almost
# never has a letter like 'â' next to '?' and a byte of 0x80-0xBF.
_DAMAGED_UTF8 = re.compile(
    rb"[\xe0-\xef](?:\?[\x80-\xbf]|[\x80-\xbf]\?)|[\xf0-\xf4](?=[\x80-\xbf]{0,2}\?)[?\x80-\xbf]{3}"
)
_ASCII = bytes(range(128))
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an undecodable byte under surrogateescape
_DETECT_BYTES = 256_000  # what the legacy-encoding detector looks at
_SHAPE_BYTES = 4_000_000  # where damaged UTF-8 characters are looked for
UTF8_FAMILY = ("utf-8", "utf-8-sig", "utf-16", "utf-32")
# UTF-8 read as cp1252 or Latin-1: a lead byte's character, then a continuation byte's.
_LEADS = bytes(range(0xC2, 0xF5)).decode("latin-1")
_CONTINUATIONS = "".join(
    sorted(
        set(bytes(range(0x80, 0xC0)).decode("latin-1"))
        | set(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore"))
    )
)
MOJIBAKE_PATTERN = f"[{re.escape(_LEADS)}][{re.escape(_CONTINUATIONS)}]"  # exported scripts too
_MAYBE_MOJIBAKE = re.compile(MOJIBAKE_PATTERN)


def _mark_undecodable(error: UnicodeDecodeError) -> tuple[str, int]:
    """Where `errors="replace"` puts one U+FFFD: a start mark, and one mark per further byte."""
    return UNDECODABLE_START + UNDECODABLE_REST * (error.end - error.start - 1), error.end


codecs.register_error(_MARK, _mark_undecodable)


@dataclass(frozen=True)
class DecodedText:
    """Text whose undecodable bytes are still marked (`show_undecodable` shows them)."""

    text: str
    encoding: str
    undecodable_bytes: int


def decode_bytes(data: bytes, encoding: str | None = None) -> DecodedText:
    """Decode in the encoding given, or the one `guess_encoding` finds."""
    encoding = encoding or guess_encoding(data)
    try:
        text = data.decode(encoding, _MARK)
    except LookupError:  # unknown, or a codec of bytes to bytes such as 'hex'
        raise UserError(
            f"'{encoding}' is not a text encoding Python knows; try utf-8, cp1252 or latin-1."
        ) from None
    except (UnicodeError, ValueError) as exc:  # idna, punycode: codecs that refuse handlers
        raise UserError(
            f"The file cannot be read as {encoding} ({type(exc).__name__}); try utf-8, "
            "cp1252 or latin-1."
        ) from None
    return DecodedText(text, encoding, text.count(UNDECODABLE_START) + text.count(UNDECODABLE_REST))


def guess_encoding(data: bytes) -> str:
    """The BOMs first, then UTF-8 (damaged or not), then a legacy encoding.

    A file that is UTF-8 but for some broken bytes (a cut character, a pasted Windows
    quote, characters whose bytes became '?') stays UTF-8: read as cp1252, all its accents
    and emoji would turn into "Ã©" and "â€¦" instead.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _mostly_utf8(data):
        return "utf-8"
    # the file's shape shows in its first megabytes; the regular expression is slow
    if _mostly_utf8(_DAMAGED_UTF8.sub(b"", data[:_SHAPE_BYTES])):
        return "utf-8"
    return _legacy_encoding(data)


def _mostly_utf8(data: bytes) -> bool:
    """Few of the non-ASCII bytes are invalid UTF-8 (counted in C: a cp1252 file has one
    per accent, too many for an error handler)."""
    undecodable = len(_ESCAPED_BYTE.findall(data.decode("utf-8", errors="surrogateescape")))
    return undecodable <= MOSTLY_UTF8 * len(data.translate(None, _ASCII))


def _legacy_encoding(data: bytes) -> str:
    """charset-normalizer's guess where it reads a non-Latin script (Cyrillic, Greek, CJK,
    ...); else cp1252, or Latin-1 where cp1252 leaves bytes undefined. On Western text the
    detector cannot tell cp1252 from cp1250 or Mac Roman by a few accents ('£' would
    become 'Ł'), so it is not asked to."""
    sample = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]
    best = from_bytes(sample).best()
    if best is not None and best.encoding not in UTF8_FAMILY and _mostly_non_latin(str(best)):
        return best.encoding
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _mostly_non_latin(text: str) -> bool:
    letters = [c for c in text if ord(c) > 127 and c.isalpha()]
    latin = sum(1 for c in letters if unicodedata.name(c, "").startswith("LATIN"))
    return bool(letters) and latin < len(letters) / 2


def has_undecodable(cell: str) -> bool:
    return UNDECODABLE_START in cell


def show_undecodable(cell: str) -> str:
    """Each run of undecodable bytes as the one U+FFFD that `errors="replace"` gives."""
    return cell.replace(UNDECODABLE_START, REPLACEMENT).replace(UNDECODABLE_REST, "")


def may_hold_mojibake(text: str) -> bool:
    """A quick look for UTF-8 that was decoded as cp1252 / Latin-1 ('Ã©', 'â€™')."""
    return _MAYBE_MOJIBAKE.search(text) is not None


def fix_mojibake(cell: str) -> str:
    """ftfy's repair of text decoded twice ('cafÃ©' -> 'café'); other text is left alone,
    and so is a cell the repair would give more U+FFFD ('Â?' and 'ï¿½' become one): a
    character lost for good is no repair, and it would hide from the count of them."""
    if may_hold_mojibake(cell) and ftfy.is_bad(cell):
        repaired = ftfy.fix_encoding(cell)
        if repaired.count(REPLACEMENT) <= cell.count(REPLACEMENT):
            return repaired
    return cell
