"""The table of hyperparameters: names, defaults, allowed values, where each one goes, and
when each one matters.

One table serves the CLI (parsing `--grid units=16,32`), the spec (validation and the
search space), the search (routing to the vectorizer, the Keras model or the fit) and the
dashboard (widgets). It is made of the hyperparameters every model has and those each
architecture declares (`lstm_core.domain.architectures`): one of those matters only for
the architectures that declare it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lstm_core.domain.architectures.registry import architecture, architectures
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparameter import (
    FIT,
    MODEL,
    NETWORK,
    REGULARISATION,
    START,
    TEXT,
    TRAINING,
    VECTORIZER,
    Condition,
    Hyperparameter,
    choice,
    integer,
    real,
)

ARCHITECTURES = tuple(a.code for a in architectures())
ARCHITECTURE_NAMES = {a.code: a.name for a in architectures()}
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
DENSE_LAYER = Condition(
    "dense_units",
    bool,
    "with dense units > 0",
    "The activation only applies to the dense layer: add dense units, or the choices give "
    "identical models.",
)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_SHARED = (
    choice(
        "arch",
        MODEL,
        "lstm",
        "The network between the embedding and the output: "
        + " ".join(a.help for a in architectures()),
        ARCHITECTURES,
        label="architectures",
    ),
    integer(
        "units",
        MODEL,
        32,
        1,
        1024,
        "Units in each recurrent layer (filters in each convolution)",
        (4, 8, 16, 32, 64, 128, 256),
        group=NETWORK,
    ),
    integer(
        "layers",
        MODEL,
        1,
        1,
        3,
        "Stacked recurrent (or convolution) layers",
        (1, 2, 3),
        group=NETWORK,
    ),
    integer(
        "embedding_dim",
        MODEL,
        32,
        2,
        1024,
        "Size of each word vector",
        (8, 16, 32, 64, 128),
        group=NETWORK,
    ),
    integer(
        "dense_units",
        MODEL,
        0,
        0,
        1024,
        "Units of a dense layer before the output (0: none)",
        (0, 8, 16, 32, 64),
        group=NETWORK,
    ),
    choice(
        "activation",
        MODEL,
        "relu",
        "Activation of the optional dense layer",
        ACTIVATIONS,
        group=NETWORK,
        label="dense layer activation",
        condition=DENSE_LAYER,
    ),
    choice(
        "init_mode",
        MODEL,
        "glorot_uniform",
        "Initial weights of the network's kernels",
        INIT_MODES,
        group=NETWORK,
    ),
    real(
        "embedding_dropout",
        MODEL,
        0.0,
        0.0,
        0.9,
        "Share of word vectors dropped whole from each training text (spatial dropout), so "
        "no single word decides",
        DROPOUTS,
        group=REGULARISATION,
    ),
    real(
        "dropout_rate",
        MODEL,
        0.0,
        0.0,
        0.9,
        "Dropout after each recurrent layer (after the pooling of a CNN)",
        DROPOUTS,
        group=REGULARISATION,
    ),
    choice(
        "class_weight",
        FIT,
        None,
        "Weigh classes equally ('balanced') or not",
        ("none", "balanced"),
        (None, "balanced"),
        ("none",),
        group=REGULARISATION,
    ),
    integer(
        "patience",
        FIT,
        0,
        0,
        100,
        "Stop after this many epochs without a better validation macro-F1, keeping the "
        "best epoch's weights (0: train every epoch)",
        (0, 1, 2, 3, 5),
        group=REGULARISATION,
    ),
    choice("optimizer", MODEL, "adam", "Gradient-descent optimizer", OPTIMIZERS, group=TRAINING),
    real(
        "learning_rate",
        MODEL,
        None,
        1e-6,
        10.0,
        "Step size (default: the optimizer's own)",
        (None, 0.0001, 0.001, 0.01, 0.1),
        ("default", "none"),
        group=TRAINING,
    ),
    integer(
        "batch_size",
        FIT,
        32,
        1,
        4096,
        "Examples per gradient step",
        (8, 16, 32, 64, 128, 256),
        group=TRAINING,
    ),
    integer(
        "epochs",
        FIT,
        3,
        1,
        500,
        "Passes over the training data (at most, with early stopping)",
        (1, 2, 3, 5, 10, 20, 50),
        group=TRAINING,
    ),
    real(
        "validation_split",
        FIT,
        0.1,
        0.0,
        0.5,
        "Share of each training fold kept aside for val_loss curves",
        (0.0, 0.1, 0.2),
        group=TRAINING,
    ),
    choice(
        "tokens",
        VECTORIZER,
        "words",
        "What a text is cut into: words, or subwords (byte-pair pieces learnt from the "
        "training texts, max_tokens of them), which give rare words, hashtags and "
        "misspellings known pieces instead of one unknown word",
        ("words", "subwords"),
        group=TEXT,
    ),
    integer(
        "max_tokens",
        VECTORIZER,
        10_000,
        3,
        1_000_000,
        "Vocabulary size (most frequent words)",
        (1000, 5000, 10_000, 20_000),
        group=TEXT,
    ),
    integer(
        "sequence_length",
        VECTORIZER,
        "auto",
        1,
        2000,
        "Tokens kept per text ('auto': 95th percentile)",
        ("auto", 20, 40, 80, 160),
        ("auto",),
        group=TEXT,
    ),
    choice(
        "lowercase",
        VECTORIZER,
        True,
        "Lowercase texts before tokenizing",
        None,
        (True, False),
        group=TEXT,
    ),
    choice(
        "strip_punctuation",
        VECTORIZER,
        True,
        "Drop punctuation tokens",
        None,
        (True, False),
        group=TEXT,
    ),
    choice(
        "strip_html",
        VECTORIZER,
        False,
        "Remove HTML tags and unescape character entities (left in scraped texts) before "
        "tokenizing",
        None,
        (False, True),
        group=TEXT,
        label="strip HTML",
    ),
    choice(
        "vectors_trainable",
        START,
        True,
        "Train the embedding that word vectors start (false: keep the vectors as they are)",
        None,
        (True, False),
    ),
)


def _of_some_architectures() -> list[Hyperparameter]:
    """The hyperparameters architectures declare, each conditioned on the architecture."""
    declared: dict[str, Hyperparameter] = {}
    owners: dict[str, list[str]] = {}
    for arch in architectures():
        for parameter in arch.hyperparameters:
            declared.setdefault(parameter.name, parameter)
            owners.setdefault(parameter.name, []).append(arch.code)
    conditioned = []
    for name, parameter in declared.items():
        codes = frozenset(owners[name])
        named = [architecture(c).name for c in ARCHITECTURES if c in codes]
        others = [architecture(c).name for c in ARCHITECTURES if c not in codes]
        when = (
            f"not {', '.join(others)}" if len(others) < len(named) else f"{', '.join(named)} only"
        )
        why = (
            f"{name} only applies to {', '.join(named)}; the architectures chosen do not "
            "have it, so its choices give identical models."
        )
        condition = Condition("arch", codes.__contains__, when, why)
        conditioned.append(replace(parameter, condition=condition))
    return conditioned


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    p.name: p for p in (*_SHARED, *_of_some_architectures())
}


def hyperparameter(name: str) -> Hyperparameter:
    try:
        return HYPERPARAMETERS[name]
    except KeyError:
        known = ", ".join(HYPERPARAMETERS)
        raise UserError(f"Unknown hyperparameter '{name}'; known ones are: {known}.") from None


def conditioned() -> list[Hyperparameter]:
    """The hyperparameters that matter only under a condition, in the table's order."""
    return [p for p in HYPERPARAMETERS.values() if p.condition is not None]


def applies(name: str, config: dict[str, Any]) -> bool:
    """Does `name` matter in this full configuration (its condition holds)?"""
    condition = hyperparameter(name).condition
    return condition is None or condition.holds(config[condition.parent])


def settled(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration with None for every hyperparameter that does not matter in it."""
    return {
        name: value if name not in HYPERPARAMETERS or applies(name, config) else None
        for name, value in config.items()
    }


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
