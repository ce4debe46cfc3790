"""The table of hyperparameters: names, defaults, allowed values, and where each one goes.

One table serves the CLI (parsing `--grid units=16,32`), the spec (validation), the search
(routing to the vectorizer, the Keras model or the fit) and the dashboard (widgets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lstm_core.domain.errors import UserError

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru")
ARCHITECTURE_NAMES = {
    "rnn": "SimpleRNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "bilstm": "BiLSTM",
    "bigru": "BiGRU",
}
OPTIMIZERS = ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam")
INIT_MODES = (
    "uniform",
    "lecun_uniform",
    "normal",
    "zero",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
)
ACTIVATIONS = (
    "softmax",
    "softplus",
    "softsign",
    "relu",
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "linear",
)

# Where a value is routed: the text vectorizer, the Keras model builder, the Keras fit, or
# the starting weights (word vectors, a saved model) a fit begins from.
VECTORIZER, MODEL, FIT, START = "vectorizer", "model", "fit", "start"


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

    def offered(self) -> tuple:
        """Values to offer in a picker: the classic values, or else the choices."""
        return self.suggestions or self.choices or (self.default,)

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
            return _parse_bool(self.name, value)
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


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UserError(f"'{value}' is not a valid {name}; expected true or false.")


def _int(name, target, default, low, high, help, suggestions=(), special=()):
    return Hyperparameter(
        name,
        target,
        default,
        help,
        low=low,
        high=high,
        integer=True,
        special=special,
        suggestions=suggestions,
    )


def _float(name, target, default, low, high, help, suggestions=(), special=()):
    return Hyperparameter(
        name, target, default, help, low=low, high=high, special=special, suggestions=suggestions
    )


def _choice(name, target, default, help, choices, suggestions=(), special=()):
    return Hyperparameter(
        name, target, default, help, choices, special=special, suggestions=suggestions
    )


DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_PARAMETERS = (
    _choice(
        "arch",
        MODEL,
        "lstm",
        "Recurrent cell: SimpleRNN, LSTM, GRU or bidirectional",
        ARCHITECTURES,
    ),
    _int(
        "units", MODEL, 32, 1, 1024, "Units in each recurrent layer", (4, 8, 16, 32, 64, 128, 256)
    ),
    _int("layers", MODEL, 1, 1, 3, "Stacked recurrent layers", (1, 2, 3)),
    _int("embedding_dim", MODEL, 32, 2, 1024, "Size of each word vector", (8, 16, 32, 64, 128)),
    _float("dropout_rate", MODEL, 0.0, 0.0, 0.9, "Dropout after each recurrent layer", DROPOUTS),
    _float(
        "recurrent_dropout",
        MODEL,
        0.0,
        0.0,
        0.9,
        "Dropout inside the recurrence (about 2x slower on CPU, no cuDNN kernel on GPU)",
        (0.0, 0.1, 0.2, 0.3, 0.5),
    ),
    _choice("optimizer", MODEL, "adam", "Gradient-descent optimizer", OPTIMIZERS),
    _float(
        "learning_rate",
        MODEL,
        None,
        1e-6,
        10.0,
        "Step size (default: the optimizer's own)",
        (None, 0.0001, 0.001, 0.01, 0.1),
        ("default", "none"),
    ),
    _choice(
        "init_mode",
        MODEL,
        "glorot_uniform",
        "Initial weights of recurrent and dense layers",
        INIT_MODES,
    ),
    _choice("activation", MODEL, "relu", "Activation of the optional dense layer", ACTIVATIONS),
    _int(
        "dense_units",
        MODEL,
        0,
        0,
        1024,
        "Units of a dense layer before the output (0: none)",
        (0, 8, 16, 32, 64),
    ),
    _int("batch_size", FIT, 32, 1, 4096, "Examples per gradient step", (8, 16, 32, 64, 128, 256)),
    _int("epochs", FIT, 3, 1, 500, "Passes over the training data", (1, 2, 3, 5, 10, 20, 50)),
    _choice(
        "class_weight",
        FIT,
        None,
        "Weigh classes equally ('balanced') or not",
        ("none", "balanced"),
        (None, "balanced"),
        ("none",),
    ),
    _choice(
        "length_buckets",
        FIT,
        True,
        "Batch texts of similar length, each batch padded only to its longest (0.55-0.8x "
        "the epoch time on spam.csv)",
        None,
        (True, False),
    ),
    _int(
        "patience",
        FIT,
        0,
        0,
        100,
        "Early stopping after this many epochs without val_loss progress (0: off)",
        (0, 1, 2, 3, 5),
    ),
    _float(
        "validation_split",
        FIT,
        0.1,
        0.0,
        0.5,
        "Share of each training fold kept aside for val_loss curves",
        (0.0, 0.1, 0.2),
    ),
    _int(
        "max_tokens",
        VECTORIZER,
        10_000,
        3,
        1_000_000,
        "Vocabulary size (most frequent words)",
        (1000, 5000, 10_000, 20_000),
    ),
    _int(
        "sequence_length",
        VECTORIZER,
        "auto",
        1,
        2000,
        "Tokens kept per text ('auto': 95th percentile)",
        ("auto", 20, 40, 80, 160),
        ("auto",),
    ),
    _choice(
        "lowercase", VECTORIZER, True, "Lowercase texts before tokenizing", None, (True, False)
    ),
    _choice("strip_punctuation", VECTORIZER, True, "Drop punctuation tokens", None, (True, False)),
    _choice(
        "strip_html",
        VECTORIZER,
        False,
        "Remove HTML tags and unescape character entities (left in scraped texts) before "
        "tokenizing",
        None,
        (False, True),
    ),
    _choice(
        "vectors_trainable",
        START,
        True,
        "Train the embedding that word vectors start (false: keep the vectors as they are)",
        None,
        (True, False),
    ),
)
HYPERPARAMETERS: dict[str, Hyperparameter] = {p.name: p for p in _PARAMETERS}


def hyperparameter(name: str) -> Hyperparameter:
    try:
        return HYPERPARAMETERS[name]
    except KeyError:
        known = ", ".join(HYPERPARAMETERS)
        raise UserError(f"Unknown hyperparameter '{name}'; known ones are: {known}.") from None


def show_value(name: str, value: Any) -> str:
    """A hyperparameter's value as a person reads it: the architecture's name, "default"
    for the optimizer's own learning rate (None), four significant digits for a value
    drawn from a range (0.0022231757593178317)."""
    if value is None:
        return "default"
    if name == "arch":
        return ARCHITECTURE_NAMES.get(value, str(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def defaults() -> dict[str, Any]:
    return {name: p.default for name, p in HYPERPARAMETERS.items()}


def coerce_values(name: str, values: list[Any]) -> list[Any]:
    """Canonical, de-duplicated values for one hyperparameter, in the order given."""
    spec = hyperparameter(name)
    if not values:
        raise UserError(f"No values given for {name}; give at least one.")
    coerced = [spec.coerce(v) for v in values]
    return list(dict.fromkeys(coerced))


def parse_assignment(text: str) -> tuple[str, list[Any]]:
    """`units=16,32` -> ("units", [16, 32]), validated against the table."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise UserError(f"'{text}' is not NAME=VALUE[,VALUE...]; for example units=16,32.")
    values = [v for v in raw.split(",") if v.strip()]
    return name.strip(), coerce_values(name.strip(), values)


def targets(target: str) -> list[str]:
    return [name for name, p in HYPERPARAMETERS.items() if p.target == target]


def model_key(config: dict[str, Any]) -> tuple:
    """The settings that make two fits need the same Keras model (so one can be kept)."""
    names = (*targets(MODEL), *targets(START), "max_tokens", "sequence_length", "length_buckets")
    return tuple(config[name] for name in names)


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
    value = Range(value.low, value.high, _parse_bool(f"the log switch of {name}", value.log))
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
