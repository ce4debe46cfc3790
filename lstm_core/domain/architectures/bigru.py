"""BiGRU: a GRU reading left to right and one reading right to left, outputs joined."""

from __future__ import annotations

from lstm_core.domain.architectures import gru
from lstm_core.domain.architectures.recurrent import recurrent

ARCHITECTURE = recurrent(
    "bigru",
    "BiGRU",
    "BiGRU: the GRU run in both directions, outputs joined.",
    order=4,
    cell="GRU",
    gates=gru.gates,
    bidirectional=True,
)
