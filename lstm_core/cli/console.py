"""What the CLI prints, for a person or a script: exit statuses, text with its control
characters escaped, one JSON value per line."""

from __future__ import annotations

import json
import re

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
# C0 and C1 controls (tab aside), DEL, and the bidirectional controls that reorder text
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: object) -> str:
    """`text` with control characters shown as escapes (`\\x1b`), never sent raw."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


def print_json(payload) -> None:
    print(json.dumps(payload, default=str))
