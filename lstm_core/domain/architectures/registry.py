"""Every architecture, found by reading this package: each module that declares an
`ARCHITECTURE` is one, so adding an architecture is adding a file here."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from lstm_core.domain.architectures.architecture import Architecture
from lstm_core.domain.errors import UserError

PACKAGE = "lstm_core.domain.architectures"


@cache
def architectures() -> tuple[Architecture, ...]:
    """All of them, in the order pickers show them."""
    package = importlib.import_module(PACKAGE)
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        declared = getattr(
            importlib.import_module(f"{PACKAGE}.{module.name}"), "ARCHITECTURE", None
        )
        if isinstance(declared, Architecture):
            found.append(declared)
    return tuple(sorted(found, key=lambda a: (a.order, a.code)))


def codes() -> tuple[str, ...]:
    return tuple(a.code for a in architectures())


def architecture(code: str) -> Architecture:
    for candidate in architectures():
        if candidate.code == code:
            return candidate
    raise UserError(f"'{code}' is not an architecture; choose from {', '.join(codes())}.")
