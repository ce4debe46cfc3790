"""Counts in sentences: '1 row', '2 rows', '1,500 rows', never '1 rows' or 'row(s)'."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, the noun plural (`plural`, else with an 's') unless it is 1."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
