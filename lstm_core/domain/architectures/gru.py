"""GRU: two gates and no separate cell."""

from __future__ import annotations

import numpy as np

from lstm_core.domain.analysis import GateTrace
from lstm_core.domain.architectures.recurrent import recurrent, sigmoid


def gates(weights: list[np.ndarray], x: np.ndarray) -> GateTrace:
    """Keras' GRU: with `reset_after` (two bias rows, Keras 3's default) the reset gate
    scales the recurrent term after its matrix product, else the state before it."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    after = np.ndim(bias) == 2
    input_bias, recurrent_bias = bias if after else (bias, np.zeros_like(bias))
    h = np.zeros(units)
    trace = {name: [] for name in ("update", "reset", "hidden")}
    for step in x:
        given = step @ kernel + input_bias
        kept = h @ recurrent_kernel + recurrent_bias
        z = sigmoid(given[:units] + kept[:units])
        r = sigmoid(given[units : 2 * units] + kept[units : 2 * units])
        if after:
            candidate = np.tanh(given[2 * units :] + r * kept[2 * units :])
        else:
            candidate = np.tanh(given[2 * units :] + (r * h) @ recurrent_kernel[:, 2 * units :])
        h = z * h + (1 - z) * candidate
        for name, value in (("update", z), ("reset", r), ("hidden", h)):
            trace[name].append(value.tolist())
    return GateTrace("GRU", **trace)


ARCHITECTURE = recurrent(
    "gru",
    "GRU",
    "GRU: two gates and no separate cell; close to LSTM with fewer weights.",
    order=2,
    cell="GRU",
    gates=gates,
)
