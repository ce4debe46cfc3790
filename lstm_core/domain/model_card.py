"""A saved model as the door shows it: what it answers with and how much of a text it reads,
never the loaded Keras model itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCard:
    """The run a model came from, its labels, the words of a text it reads (the rest are
    cut) and the words it knows (padding and unknown included)."""

    run_id: str
    labels: list[str]
    sequence_length: int
    vocabulary_size: int
