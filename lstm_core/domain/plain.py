"""Entities as plain JSON values and back, so the store can keep a result as text.

A result written by an older version still loads: unknown keys are ignored, missing ones
take their defaults.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

from lstm_core.domain.spec import ExperimentSpec


def to_plain(value: Any) -> Any:
    """Entities (and anything inside them) as JSON-ready dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return value.tolist()
    return value


def from_plain(cls: type, data: dict) -> Any:
    """Build `cls` from `to_plain`'s output, ignoring keys it does not know."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _convert(hints[k], v) for k, v in data.items() if k in known})


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if origin is dict:
        return {k: _convert(args[1], v) for k, v in value.items()}
    if origin is list:
        return [_convert(args[0], v) for v in value]
    if hint is ExperimentSpec:
        return ExperimentSpec.from_dict(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value
