"""One builder for every recurrent architecture, driven by a table of cell types.

`layer_table` gives a `model.summary()`-style table and parameter count without importing
TensorFlow (the dashboard shows it while a person designs a grid); a test checks it
against Keras' own count for every architecture. `build_model` imports Keras lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstm_core.domain.entities import ParameterCounts

# cell name in Keras, gate count (weights per unit), bidirectional?
CELLS = {
    "rnn": ("SimpleRNN", 1, False),
    "lstm": ("LSTM", 4, False),
    "gru": ("GRU", 3, False),
    "bilstm": ("LSTM", 4, True),
    "bigru": ("GRU", 3, True),
}
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


# Layer groups a model can start from elsewhere (a saved model, word vectors) and freeze.
EMBEDDING, RECURRENT = "embedding", "recurrent"
FINE_TUNE_RATE = 0.1  # a fine-tune phase trains at this share of the first phase's rate


def recurrent_frozen(frozen: frozenset[str], depth: int) -> bool:
    """Is recurrent layer `depth` (from 1, input side first) frozen: all of them, or it?"""
    return RECURRENT in frozen or f"{RECURRENT}_{depth}" in frozen


@dataclass(frozen=True)
class LayerRow:
    layer: str
    output_shape: str
    params: int
    frozen: bool = False  # its weights stay as they started (a transferred layer)


@dataclass(frozen=True, eq=False)
class InitialWeights:
    """What a model starts from instead of random weights, and what stays frozen.

    `embedding`: the embedding's rows (word vectors, or a saved model's); `recurrent`: each
    recurrent layer's weights, from a saved model of the same shape. A fine-tune phase of
    `fine_tune_epochs` unfreezes everything at `FINE_TUNE_RATE` times the learning rate.
    """

    embedding: np.ndarray | None = None
    recurrent: tuple[list[np.ndarray], ...] = ()
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


def recurrent_params(arch: str, input_dim: int, units: int) -> int:
    """Trainable weights of one recurrent layer (both directions for bidirectional)."""
    _, gates, bidirectional = CELLS[arch]
    # GRU in Keras 3 defaults to reset_after=True: a second bias vector per gate.
    biases = 2 * units if arch in ("gru", "bigru") else units
    one_direction = gates * (units * (input_dim + units) + biases)
    return one_direction * (2 if bidirectional else 1)


def layer_table(
    arch: str,
    n_classes: int,
    max_tokens: int = 10_000,
    embedding_dim: int = 32,
    units: int = 32,
    layers: int = 1,
    dense_units: int = 0,
    sequence_length: int | str = "auto",
    dropout_rate: float = 0.0,
    vocabulary_size: int | None = None,
    frozen: frozenset[str] = frozenset(),
    **_ignored,
) -> list[LayerRow]:
    """The layers `build_model` makes, with output shapes and parameter counts.

    With `vocabulary_size` (the words kept, padding and unknown included) the embedding is
    sized as a fit sizes it; without, it has `max_tokens` rows. `frozen` names the layers
    whose weights training leaves alone: `EMBEDDING`, `RECURRENT` (every recurrent layer),
    `recurrent_N` (the Nth, from the input side).
    """
    cell, _, bidirectional = CELLS[arch]
    length = "L" if sequence_length == "auto" else str(sequence_length)
    vocabulary = embedding_rows(vocabulary_size, max_tokens)
    rows = [
        LayerRow(
            f"Embedding ({vocabulary:,} rows, mask_zero)",
            f"(None, {length}, {embedding_dim})",
            vocabulary * embedding_dim,
            EMBEDDING in frozen,
        )
    ]
    width = embedding_dim
    out_units = units * (2 if bidirectional else 1)
    for depth in range(layers):
        last = depth == layers - 1
        name = f"Bidirectional({cell})" if bidirectional else cell
        shape = f"(None, {out_units})" if last else f"(None, {length}, {out_units})"
        rows.append(
            LayerRow(
                name,
                shape,
                recurrent_params(arch, width, units),
                recurrent_frozen(frozen, depth + 1),
            )
        )
        if dropout_rate:
            rows.append(LayerRow("Dropout", shape, 0))
        width = out_units
    if dense_units:
        rows.append(LayerRow("Dense", f"(None, {dense_units})", width * dense_units + dense_units))
        width = dense_units
    rows.append(LayerRow("Dense (softmax)", f"(None, {n_classes})", width * n_classes + n_classes))
    return rows


def count_params(arch: str, n_classes: int, **params) -> int:
    return sum(row.params for row in layer_table(arch, n_classes, **params))


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
    """Summary of the candidates (full configurations) that use `arch`; `vocabulary` gives
    the words a configuration's vectorizer keeps (else the embedding has `max_tokens` rows)."""
    sized = [
        {k: v for k, v in c.items() if k != "arch"}
        | {
            "sequence_length": auto_length
            if c["sequence_length"] == "auto"
            else c["sequence_length"],
            "vocabulary_size": vocabulary(c) if vocabulary else None,
            "frozen": frozen,
        }
        for c in configs
        if c["arch"] == arch
    ]
    rows = layer_table(arch, n_classes, **sized[0])
    totals = [count_params(arch, n_classes, **c) for c in sized]
    return ModelSummary(arch, rows, sum(r.params for r in rows), min(totals), max(totals))


def build_model(
    arch: str = "lstm",
    *,
    n_classes: int,
    sequence_length: int | None,
    max_tokens: int = 10_000,
    vocabulary_size: int | None = None,
    embedding_dim: int = 32,
    units: int = 32,
    layers: int = 1,
    dropout_rate: float = 0.0,
    recurrent_dropout: float = 0.0,
    optimizer: str = "adam",
    learning_rate: float | None = None,
    init_mode: str = "glorot_uniform",
    activation: str = "relu",
    dense_units: int = 0,
    frozen: frozenset[str] = frozenset(),
):
    """A compiled Keras classifier: masked embedding -> recurrent stack -> softmax.

    The embedding masks padding (id 0), so post-padded sequences are read correctly and the
    fused cuDNN kernel stays usable on a GPU (it accepts right-padded masks). A
    `sequence_length` of None takes batches of any length (lstm_core/models/batching.py). The
    embedding has `embedding_rows(vocabulary_size, max_tokens)` rows. The `frozen` layers
    (as `layer_table` names them) are made untrainable before compiling, so the optimizer never holds their weights.
    """
    import keras

    cell_name, _, bidirectional = CELLS[arch]
    cell = getattr(keras.layers, cell_name)
    initializer = KERAS_INITIALIZERS.get(init_mode, init_mode)
    inputs = keras.Input(shape=(sequence_length,), dtype="int32")
    rows = embedding_rows(vocabulary_size, max_tokens)
    x = keras.layers.Embedding(
        rows, embedding_dim, mask_zero=True, name=EMBEDDING, trainable=EMBEDDING not in frozen
    )(inputs)
    for depth in range(layers):
        name = f"{RECURRENT}_{depth + 1}"
        layer = cell(
            units,
            return_sequences=depth < layers - 1,
            recurrent_dropout=recurrent_dropout,
            kernel_initializer=initializer,
            name=f"{name}_cell" if bidirectional else name,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=name)
        layer.trainable = not recurrent_frozen(frozen, depth + 1)
        x = layer(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate)(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation=activation, kernel_initializer=initializer)(
            x
        )
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"{arch}_classifier")
    optimizer_class = getattr(keras.optimizers, KERAS_OPTIMIZERS[optimizer])
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    compile_model(model, optimizer_class(**kwargs))
    return model


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


def recurrent_layers(model) -> list:
    """The recurrent layers (bidirectional wrappers included), input side first; found by
    type, so models saved before the layers had names work too."""
    import keras

    kinds = (keras.layers.RNN, keras.layers.Bidirectional)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def start_from(model, start: InitialWeights) -> None:
    """Set the starting weights `start` gives (the shapes must match: same architecture)."""
    if start.embedding is not None:
        embedding_layer(model).set_weights([start.embedding])
    for layer, weights in zip(recurrent_layers(model), start.recurrent, strict=False):
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
    """A saved model's embedding and recurrent weights, to start a new model from."""
    return InitialWeights(
        embedding=embedding_layer(model).get_weights()[0],
        recurrent=tuple(layer.get_weights() for layer in recurrent_layers(model)),
    )
