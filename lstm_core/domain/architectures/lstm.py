"""LSTM: a memory cell that forget, input and output gates protect."""

from __future__ import annotations

import numpy as np

from lstm_core.domain.analysis import GateTrace
from lstm_core.domain.architectures.recurrent import recurrent, sigmoid


def gates(weights: list[np.ndarray], x: np.ndarray) -> GateTrace:
    """Keras' LSTM: i, f, c~, o in that order, recurrent activation sigmoid."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    trace = {name: [] for name in ("input", "forget", "output", "cell", "hidden")}
    for step in x:
        z = step @ kernel + h @ recurrent_kernel + bias
        i, f = sigmoid(z[:units]), sigmoid(z[units : 2 * units])
        candidate, o = np.tanh(z[2 * units : 3 * units]), sigmoid(z[3 * units :])
        c = f * c + i * candidate
        h = o * np.tanh(c)
        for name, value in (("input", i), ("forget", f), ("output", o), ("cell", c), ("hidden", h)):
            trace[name].append(value.tolist())
    return GateTrace("LSTM", **trace)


ARCHITECTURE = recurrent(
    "lstm",
    "LSTM",
    "LSTM: a separate memory cell with forget, input and output gates; keeps information "
    "over long texts.",
    order=1,
    cell="LSTM",
    gates=gates,
)
