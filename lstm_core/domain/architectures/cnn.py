"""1-D CNN: each filter reads a few neighbouring words at a time (the lecture's "CNN layer:
neighbouring inputs", the contrast to recurrence), and the text keeps each filter's
strongest match anywhere in it (global max pooling).

Embedding -> `layers` Conv1D of `units` filters over `kernel_size` words -> global max
pooling -> (dropout) -> the shared head. Convolutions do not take Keras' padding mask, so
the embedding does not mask: texts are padded to one length in training as in prediction
(no length buckets), and the padding is read as a word of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lstm_core.domain.architectures.architecture import Architecture, Body
from lstm_core.domain.hyperparameter import MODEL, NETWORK, integer


def body(built: Body, config: Mapping[str, Any]):
    keras, x = built.keras, built.inputs
    for depth in range(1, int(config["layers"]) + 1):
        layer = keras.layers.Conv1D(
            int(config["units"]),
            int(config["kernel_size"]),
            padding="same",
            activation="relu",
            kernel_initializer=built.initializer,
            name=built.name(depth),
        )
        layer.trainable = not built.is_frozen(depth)
        x = layer(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    if config["dropout_rate"]:
        x = keras.layers.Dropout(config["dropout_rate"])(x)
    return x


EXPORT = """\
    for _ in range(CONFIG["layers"]):
        model.add(keras.layers.Conv1D(CONFIG["units"], CONFIG["kernel_size"], padding="same",
                                      activation="relu", kernel_initializer=init))
    model.add(keras.layers.GlobalMaxPooling1D())
    if CONFIG["dropout_rate"]:
        model.add(keras.layers.Dropout(CONFIG["dropout_rate"]))
"""

ARCHITECTURE = Architecture(
    code="cnn",
    name="1-D CNN",
    help="1-D CNN: filters over a few neighbouring words, each one's strongest match kept; "
    "no recurrence, fast.",
    order=5,
    body=body,
    group="conv",
    export=EXPORT,
    hyperparameters=(
        integer(
            "kernel_size",
            MODEL,
            3,
            1,
            50,
            "Neighbouring words each convolution filter reads at once (units: its filters)",
            (2, 3, 5, 7),
            group=NETWORK,
        ),
    ),
    inherited=("kernel_size",),
    masks_padding=False,
)
