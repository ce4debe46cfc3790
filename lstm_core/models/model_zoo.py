"""Every model: an embedding, the architecture's body, an optional dense layer and a softmax.

The architectures (`lstm_core.domain.architectures`) declare their bodies; this module
builds the shared parts around one, compiles it, and reads what was built: the
`model.summary()`-style table the Experiment page shows and the weights a token passes
through (what an epoch's time grows with) are taken from a built model, never counted by
hand. Keras is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from lstm_core.domain.architectures.architecture import EMBEDDING, Body
from lstm_core.domain.architectures.registry import architecture
from lstm_core.domain.entities import ParameterCounts
from lstm_core.domain.hyperparameter import MODEL
from lstm_core.domain.hyperparams import defaults, targets

KERAS_INITIALIZERS = {"uniform": "random_uniform", "normal": "random_normal", "zero": "zeros"}
KERAS_OPTIMIZERS = {
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "adam": "Adam",
    "adamax": "Adamax",
    "nadam": "Nadam",
}
FINE_TUNE_RATE = 0.1  # a fine-tune phase trains at this share of the first phase's rate
SUMMARY_CACHE = 256  # built models' tables kept (a grid's candidates share few shapes)


@dataclass(frozen=True)
class LayerRow:
    layer: str
    output_shape: str
    params: int
    frozen: bool = False  # its weights stay as they started (a transferred layer)


@dataclass(frozen=True, eq=False)
class InitialWeights:
    """What a model starts from instead of random weights, and what stays frozen.

    `embedding`: the embedding's rows (word vectors, or a saved model's); `body`: each body
    layer's weights, from a saved model of the same shape. A fine-tune phase of
    `fine_tune_epochs` unfreezes everything at `FINE_TUNE_RATE` times the learning rate.
    """

    embedding: np.ndarray | None = None
    body: tuple[list[np.ndarray], ...] = ()
    frozen: frozenset[str] = frozenset()
    fine_tune_epochs: int = 0


def embedding_rows(vocabulary_size: int | None, max_tokens: int) -> int:
    """Rows of the embedding: the vocabulary kept, rounded up to a power of two, at most
    `max_tokens`.

    Sized to the words a fold actually kept, not to `max_tokens` (446 words need not make
    10,000 rows); rounded so the folds of one candidate, whose vocabularies differ by a few
    words, still build the same model and can share a kept one (`lstm_core.models.model_pool`).
    """
    if vocabulary_size is None:
        return max_tokens
    return min(max_tokens, max(16, 1 << (max(vocabulary_size, 1) - 1).bit_length()))


def embedding_rows_note(vocabulary_size: int, max_tokens: int) -> str:
    """Why the embedding has the rows `embedding_rows` gives, with the numbers it used."""
    rows = embedding_rows(vocabulary_size, max_tokens)
    kept = f"the {vocabulary_size:,} words this dataset keeps (padding and unknown included)"
    if rows == vocabulary_size:
        return f"The embedding has {rows:,} rows: {kept}."
    if rows == max_tokens:
        return (
            f"The embedding has {rows:,} rows: {kept}, rounded up to a power of two, "
            f"then held to max_tokens ({max_tokens:,})."
        )
    return (
        f"The embedding has {rows:,} rows: {kept}, rounded up to a power of two so that "
        "every fold of a candidate (each keeps a few words less) builds the same model."
    )


def assemble(
    arch: str,
    *,
    n_classes: int,
    sequence_length: int | None,
    vocabulary_size: int | None = None,
    frozen: frozenset[str] = frozenset(),
    **given: Any,
):
    """The uncompiled Keras model: embedding -> `arch`'s body -> optional dense -> softmax.

    Settings not given take the table's defaults. The embedding has
    `embedding_rows(vocabulary_size, max_tokens)` rows and masks padding (id 0) where the
    body reads a mask, so post-padded sequences are read correctly and the fused cuDNN
    kernel stays usable on a GPU. A `sequence_length` of None takes batches of any length
    (lstm_core/models/batching.py). The `frozen` layer groups (`Architecture.freezable`)
    are made untrainable here, before compiling, so the optimizer never holds their weights.
    """
    import keras

    config = {**defaults(), **given, "arch": arch}
    declared = architecture(arch)
    initializer = KERAS_INITIALIZERS.get(config["init_mode"], config["init_mode"])
    inputs = keras.Input(shape=(sequence_length,), dtype="int32")
    x = keras.layers.Embedding(
        embedding_rows(vocabulary_size, int(config["max_tokens"])),
        int(config["embedding_dim"]),
        mask_zero=declared.masks_padding,
        name=EMBEDDING,
        trainable=EMBEDDING not in frozen,
    )(inputs)
    if config["embedding_dropout"]:
        x = keras.layers.SpatialDropout1D(config["embedding_dropout"])(x)
    x = declared.body(Body(keras, x, initializer, frozen, declared.group), config)
    if config["dense_units"]:
        x = keras.layers.Dense(
            int(config["dense_units"]),
            activation=config["activation"],
            kernel_initializer=initializer,
        )(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"{arch}_classifier")


def build_model(
    arch: str = "lstm",
    *,
    n_classes: int,
    sequence_length: int | None,
    optimizer: str = "adam",
    learning_rate: float | None = None,
    **settings: Any,
):
    """A compiled Keras classifier (`assemble`, then the optimizer)."""
    import keras

    model = assemble(arch, n_classes=n_classes, sequence_length=sequence_length, **settings)
    optimizer_class = getattr(keras.optimizers, KERAS_OPTIMIZERS[optimizer])
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    compile_model(model, optimizer_class(**kwargs))
    return model


def describe(layer) -> str:
    """A layer as the summary names it: its kind and what sets its size."""
    kind = type(layer).__name__
    if kind == "Embedding":
        mask = ", mask_zero" if layer.mask_zero else ""
        return f"Embedding ({layer.input_dim:,} rows{mask})"
    if kind == "Bidirectional":
        return f"Bidirectional({type(layer.forward_layer).__name__})"
    if kind == "Conv1D":
        return f"Conv1D ({layer.filters} filters over {layer.kernel_size[0]} words)"
    if kind == "Dense" and layer.activation.__name__ != "linear":
        return f"Dense ({layer.activation.__name__})"
    return kind


def layer_table(model) -> list[LayerRow]:
    """The built model's layers with output shapes and parameter counts, as Keras counts."""
    return [
        LayerRow(
            describe(layer),
            str(tuple(layer.output.shape)).replace(",)", ")"),
            int(layer.count_params()),
            bool(layer.weights) and not layer.trainable,
        )
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]


def body_layers(model) -> list:
    """The layers of the architecture's body (those with weights between the embedding and
    the dense head), input side first; found by kind, so models saved before the layers
    had names work too."""
    return [
        layer
        for layer in model.layers
        if layer.weights and type(layer).__name__ not in ("Embedding", "Dense")
    ]


def _shape_key(config: Mapping[str, Any]) -> tuple:
    return tuple((name, config[name]) for name in targets(MODEL) if name in config)


@lru_cache(maxsize=SUMMARY_CACHE)
def _built(key: tuple, n_classes: int, length: int, rows: int, frozen: frozenset):
    settings = dict(key)
    model = assemble(
        settings.pop("arch"),
        n_classes=n_classes,
        sequence_length=length,
        vocabulary_size=rows,
        frozen=frozen,
        **settings,
        max_tokens=rows,  # the rows as given: no second rounding
    )
    table = tuple(layer_table(model))
    per_token = sum(int(layer.count_params()) for layer in body_layers(model))
    return table, per_token


def built_table(
    config: Mapping[str, Any],
    n_classes: int,
    length: int,
    vocabulary_size: int | None = None,
    frozen: frozenset[str] = frozenset(),
) -> list[LayerRow]:
    """The layer table of the model `config` builds (kept: the same shapes build once)."""
    rows = embedding_rows(vocabulary_size, int(config["max_tokens"]))
    return list(_built(_shape_key(config), n_classes, length, rows, frozen)[0])


def weights_per_token(config: Mapping[str, Any]) -> int:
    """The body's weights, each of which every token passes through (a recurrent cell's
    at each step, a convolution's at each position): what an epoch's time grows with."""
    return _built(_shape_key(config), 2, 8, 16, frozenset())[1]


@dataclass(frozen=True)
class ModelSummary:
    """The layers of one architecture's first candidate, and the size range over a grid."""

    arch: str
    rows: list[LayerRow]
    total: int
    smallest: int
    largest: int


def model_summary(
    configs: list[dict],
    arch: str,
    n_classes: int,
    auto_length: int,
    vocabulary: Callable[[dict], int] | None = None,
    frozen: frozenset[str] = frozenset(),
) -> ModelSummary:
    """Summary of the candidates (full configurations) that use `arch`, from their built
    models; `vocabulary` gives the words a configuration's vectorizer keeps (else the
    embedding has `max_tokens` rows)."""
    tables = [
        built_table(
            config,
            n_classes,
            auto_length if config["sequence_length"] == "auto" else int(config["sequence_length"]),
            vocabulary(config) if vocabulary else None,
            frozen,
        )
        for config in configs
        if config["arch"] == arch
    ]
    totals = [sum(row.params for row in table) for table in tables]
    return ModelSummary(arch, tables[0], totals[0], min(totals), max(totals))


def compile_model(model, optimizer) -> None:
    """Compile for training what is trainable now (again after unfreezing layers)."""
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Create the optimizer's and the metrics' variables now, as Keras itself does under a
    # distribution strategy: variables first created while the training step is traced make
    # TensorFlow trace that step twice (about 0.5 s more per model, measured in bench/).
    length = model.inputs[0].shape[1]
    model._symbolic_build(
        data_batch=(np.ones((1, length or 1), "int32"), np.zeros(1, "int32"), None)
    )


def embedding_layer(model):
    import keras

    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))


def start_from(model, start: InitialWeights) -> None:
    """Set the starting weights `start` gives (the shapes must match: same architecture)."""
    if start.embedding is not None:
        embedding_layer(model).set_weights([start.embedding])
    for layer, weights in zip(body_layers(model), start.body, strict=False):
        layer.set_weights(weights)


def unfreeze(model) -> None:
    """Make every layer trainable and compile again with a fresh optimizer of the same
    kind at `FINE_TUNE_RATE` times its learning rate (fine-tuning)."""
    for layer in model.layers:
        layer.trainable = True
    rate = float(np.asarray(model.optimizer.learning_rate)) * FINE_TUNE_RATE
    compile_model(model, type(model.optimizer)(learning_rate=rate))


def parameter_counts(model) -> ParameterCounts:
    """Trainable and frozen weights, as `model.summary()` counts them."""

    def size(weights) -> int:
        return int(sum(np.prod(w.shape) for w in weights))

    return ParameterCounts(size(model.trainable_weights), size(model.non_trainable_weights))


def weights_to_reuse(model) -> InitialWeights:
    """A saved model's embedding and body weights, to start a new model from."""
    return InitialWeights(
        embedding=embedding_layer(model).get_weights()[0],
        body=tuple(layer.get_weights() for layer in body_layers(model)),
    )
