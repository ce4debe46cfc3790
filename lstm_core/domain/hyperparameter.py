"""What one hyperparameter is: its name, default, allowed values, where it goes, and when it
matters at all.

The type lives apart from the table (`lstm_core.domain.hyperparams`) because architectures
declare their own hyperparameters (`lstm_core.domain.architectures`) and the table is made
of theirs and the shared ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lstm_core.domain.errors import UserError

# Where a value is routed: the text vectorizer, the Keras model builder, the Keras fit, or
# the starting weights (word vectors, a saved model) a fit begins from.
VECTORIZER, MODEL, FIT, START = "vectorizer", "model", "fit", "start"
# Where the Experiment page offers it ("": not among the grouped widgets).
NETWORK, REGULARISATION, TRAINING, TEXT = "Network", "Regularisation", "Training", "Text"


@dataclass(frozen=True)
class Condition:
    """A hyperparameter matters only when `holds(value of parent)`: elsewhere every value
    of it gives the same model, so a search does not try them (and a config holds None)."""

    parent: str
    holds: Callable[[Any], bool]
    when: str  # "with dense units > 0": what a label adds
    why: str  # the sentence said when it never holds in a design


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    target: str
    default: Any
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    special: tuple = ()  # extra accepted strings, e.g. "auto"
    suggestions: tuple = ()  # the classic values a designer offers
    group: str = ""
    label: str = ""  # where its own name would mislead
    condition: Condition | None = None

    def offered(self) -> tuple:
        """Values to offer in a picker: the classic values, or else the choices."""
        return self.suggestions or self.choices or (self.default,)

    def shown_label(self) -> str:
        """The name a person reads, with the condition under which it matters."""
        label = self.label or self.name.replace("_", " ")
        return f"{label} ({self.condition.when})" if self.condition else label

    def coerce(self, value: Any) -> Any:
        """Return the canonical value, or raise a `UserError` naming what was expected."""
        if value is None and None in (self.default, *map(_SPECIAL_VALUES.get, self.special)):
            return None
        if isinstance(value, str):
            value = value.strip()
            if value.lower() in self.special:
                return _SPECIAL_VALUES.get(value.lower(), value.lower())
        if self.choices is not None:
            text = str(value).lower()
            if text in self.choices:
                return text
            raise UserError(
                f"'{value}' is not a valid {self.name}; choose from {', '.join(self.choices)}."
            )
        if self.default is not None and isinstance(self.default, bool):
            return parse_bool(self.name, value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        # NaN passes every range comparison below; it is no number a model can use.
        if number is None or math.isnan(number) or (self.integer and not number.is_integer()):
            kind = "a whole number" if self.integer else "a number"
            raise UserError(
                f"'{value}' is not a valid {self.name}; expected {kind}{self._range()}."
            )
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise UserError(f"{self.name} = {value} is out of range; expected{self._range()}.")
        return int(number) if self.integer else number

    def _range(self) -> str:
        extra = f" (or {' / '.join(self.special)})" if self.special else ""
        return f" from {self.low:g} to {self.high:g}{extra}"


_SPECIAL_VALUES = {"none": None, "default": None, "auto": "auto"}


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UserError(f"'{value}' is not a valid {name}; expected true or false.")


def real(name, target, default, low, high, help, suggestions=(), special=(), **more):
    return Hyperparameter(
        name,
        target,
        default,
        help,
        low=low,
        high=high,
        special=special,
        suggestions=suggestions,
        **more,
    )


def choice(name, target, default, help, choices, suggestions=(), special=(), **more):
    return Hyperparameter(
        name, target, default, help, choices, special=special, suggestions=suggestions, **more
    )


def integer(name, target, default, low, high, help, suggestions=(), special=(), **more):
    return real(name, target, default, low, high, help, suggestions, special, integer=True, **more)
