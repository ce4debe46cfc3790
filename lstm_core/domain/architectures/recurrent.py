"""The recurrent family: a stack of one Keras cell type (SimpleRNN, LSTM, GRU), one way or
both ways, with the hyperparameters only a recurrent cell has.

Not an architecture itself (it declares no `ARCHITECTURE`): rnn.py, lstm.py, ... each make
one with `recurrent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lstm_core.domain.analysis import GateTrace
from lstm_core.domain.architectures.architecture import Architecture, Body
from lstm_core.domain.hyperparameter import FIT, MODEL, REGULARISATION, TRAINING, choice, real

GROUP = "recurrent"
HYPERPARAMETERS = (
    real(
        "recurrent_dropout",
        MODEL,
        0.0,
        0.0,
        0.9,
        "Dropout inside the recurrence (about 2x slower on CPU, no cuDNN kernel on GPU)",
        (0.0, 0.1, 0.2, 0.3, 0.5),
        group=REGULARISATION,
    ),
    choice(
        "length_buckets",
        FIT,
        True,
        "Batch texts of similar length, each batch padded only to its longest (0.55-0.8x "
        "the epoch time on spam.csv); a recurrent cell skips the padding it is masked",
        None,
        (True, False),
        group=TRAINING,
    ),
)

EXPORT = """\
    for depth in range(CONFIG["layers"]):
        layer = keras.layers.{cell}(
            CONFIG["units"],
            return_sequences=depth < CONFIG["layers"] - 1,
            recurrent_dropout=CONFIG["recurrent_dropout"],
            kernel_initializer=init,
        )
        model.add({wrapped})
        if CONFIG["dropout_rate"]:
            model.add(keras.layers.Dropout(CONFIG["dropout_rate"]))
"""


def stack(cell: str, bidirectional: bool) -> Callable[[Body, Mapping[str, Any]], Any]:
    """The body: `layers` cells of `units`, each but the last returning every step."""

    def body(built: Body, config: Mapping[str, Any]):
        keras, x, layers = built.keras, built.inputs, int(config["layers"])
        for depth in range(1, layers + 1):
            name = built.name(depth)
            layer = getattr(keras.layers, cell)(
                int(config["units"]),
                return_sequences=depth < layers,
                recurrent_dropout=config["recurrent_dropout"],
                kernel_initializer=built.initializer,
                name=f"{name}_cell" if bidirectional else name,
            )
            if bidirectional:
                layer = keras.layers.Bidirectional(layer, name=name)
            layer.trainable = not built.is_frozen(depth)
            x = layer(x)
            if config["dropout_rate"]:
                x = keras.layers.Dropout(config["dropout_rate"])(x)
        return x

    return body


def recurrent(
    code: str,
    name: str,
    help: str,
    order: int,
    cell: str,
    gates: Callable[[list[np.ndarray], np.ndarray], GateTrace],
    bidirectional: bool = False,
) -> Architecture:
    wrapped = "keras.layers.Bidirectional(layer)" if bidirectional else "layer"
    return Architecture(
        code=code,
        name=name,
        help=help,
        order=order,
        body=stack(cell, bidirectional),
        group=GROUP,
        export=EXPORT.format(cell=cell, wrapped=wrapped),
        hyperparameters=HYPERPARAMETERS,
        gates=gates,
    )


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
