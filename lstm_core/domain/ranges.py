"""Numeric hyperparameters searched between two bounds (Bayesian searches), as typed
(`learning_rate=1e-4:1e-1:log`) or as a designer is offered them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparameter import parse_bool
from lstm_core.domain.hyperparams import hyperparameter


@dataclass(frozen=True)
class Range:
    """A numeric hyperparameter searched between two bounds (Bayesian searches only);
    `log`: drawn evenly in the logarithm (learning rates, unit counts)."""

    low: float
    high: float
    log: bool = False

    def middle(self, integer: bool = False) -> float:
        """The value halfway (in the logarithm for a log range): what estimates assume."""
        value = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
        return round(value) if integer else value


def numeric(name: str) -> bool:
    """Can `name` take a range (a number, not a choice or a switch)?"""
    p = hyperparameter(name)
    return p.choices is None and not isinstance(p.default, bool)


def default_range(name: str) -> Range:
    """The span of the classic values a designer is offered (log when it spans a decade)."""
    numbers = [v for v in hyperparameter(name).offered() if isinstance(v, int | float)]
    low, high = min(numbers), max(numbers)
    return Range(low, high, log=low > 0 and high / low >= 10)


def coerce_range(name: str, value: Range | dict | list | tuple) -> Range:
    """A canonical `Range` for `name`, or one `UserError` sentence saying what is wrong."""
    if not numeric(name):
        raise UserError(
            f"{name} takes values from a list, not a range; give it as a grid of values instead."
        )
    if isinstance(value, dict):
        value = Range(value.get("low"), value.get("high"), value.get("log", False))
    elif isinstance(value, list | tuple) and len(value) in (2, 3):
        value = Range(*value)
    elif not isinstance(value, Range):
        raise UserError(f"The range of {name} needs LOW, HIGH and optionally log.")
    value = Range(value.low, value.high, parse_bool(f"the log switch of {name}", value.log))
    p = hyperparameter(name)
    low, high = (p.coerce(value.low), p.coerce(value.high))
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        raise UserError(f"The range of {name} needs two numbers, from LOW to HIGH.")
    if not low < high:
        raise UserError(
            f"The range of {name} goes from {low:g} to {high:g}; LOW must be below HIGH."
        )
    if value.log and low <= 0:
        raise UserError(
            f"A log range of {name} must start above 0 (it starts at {low:g}); raise LOW or drop :log."
        )
    return Range(low, high, bool(value.log))


def parse_range(text: str) -> tuple[str, Range]:
    """`learning_rate=1e-4:1e-1:log` -> ("learning_rate", Range(0.0001, 0.1, True))."""
    name, sep, raw = text.partition("=")
    parts = raw.split(":")
    if not sep or not name.strip() or len(parts) not in (2, 3) or not all(parts[:2]):
        raise UserError(
            f"'{text}' is not NAME=LOW:HIGH[:log]; for example learning_rate=0.0001:0.1:log."
        )
    if len(parts) == 3 and parts[2].strip().lower() != "log":
        raise UserError(f"'{text}' ends in ':{parts[2]}'; the only option after HIGH is ':log'.")
    name = name.strip()
    return name, coerce_range(name, Range(parts[0], parts[1], len(parts) == 3))
