"""Settings a person (or a test) may give through the environment, read in one way.

A duration that is not a number falls back to the default rather than failing a worker
that was started long after the variable was set; a blank text counts as unset.
"""

from __future__ import annotations

import math
import os


def seconds(variable: str, default: float, least: float = 0.0) -> float:
    """`$variable` as seconds, at least `least`; `default` when unset or not a number."""
    try:
        value = float(os.environ.get(variable, default))
    except ValueError:
        return default
    if not math.isfinite(value):
        return default
    return max(least, value)


def text(variable: str, default: str | None = None) -> str | None:
    """`$variable` without surrounding spaces; `default` when unset or blank."""
    return os.environ.get(variable, "").strip() or default
