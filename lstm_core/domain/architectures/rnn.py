"""SimpleRNN: one state updated word by word, h_t = tanh(W x_t + U h_(t-1) + b)."""

from __future__ import annotations

import numpy as np

from lstm_core.domain.analysis import GateTrace
from lstm_core.domain.architectures.recurrent import recurrent


def gates(weights: list[np.ndarray], x: np.ndarray) -> GateTrace:
    kernel, recurrent_kernel, bias = weights
    h = np.zeros(recurrent_kernel.shape[0])
    hidden = []
    for step in x:
        h = np.tanh(step @ kernel + h @ recurrent_kernel + bias)
        hidden.append(h.tolist())
    return GateTrace("SimpleRNN", hidden=hidden)


ARCHITECTURE = recurrent(
    "rnn",
    "SimpleRNN",
    "SimpleRNN: one state updated word by word; forgets quickly.",
    order=0,
    cell="SimpleRNN",
    gates=gates,
)
