"""BiLSTM: an LSTM reading left to right and one reading right to left, outputs joined."""

from __future__ import annotations

from lstm_core.domain.architectures import lstm
from lstm_core.domain.architectures.recurrent import recurrent

ARCHITECTURE = recurrent(
    "bilstm",
    "BiLSTM",
    "BiLSTM: the LSTM run in both directions, outputs joined.",
    order=3,
    cell="LSTM",
    gates=lstm.gates,
    bidirectional=True,
)
