"""What an architecture declares: its name, its own hyperparameters, how it builds the layers
between the embedding and the output, what of it can be frozen, its lines in an exported
script, and optionally how its gates are recomputed.

Every model is masked embedding -> the architecture's body -> optional dense layer ->
softmax (`lstm_core.models.model_zoo` builds the shared parts). A body is given the Keras
module, so no architecture file imports Keras (the domain stays light) and each one is
plain Keras code a student can read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_core.domain.analysis import GateTrace
from lstm_core.domain.hyperparameter import Hyperparameter

EMBEDDING = "embedding"  # the layer group every model has, freezable on its own


@dataclass(frozen=True)
class Body:
    """What a body is built with besides the configuration: its input, the Keras
    initializer of its kernels, and the layers kept frozen (`frozen(depth)` tells)."""

    keras: Any
    inputs: Any
    initializer: str
    frozen: frozenset[str]
    group: str

    def name(self, depth: int) -> str:
        """The name of the body's layer `depth` (from 1, input side first)."""
        return f"{self.group}_{depth}"

    def is_frozen(self, depth: int) -> bool:
        """Is layer `depth` frozen: the whole group, or that layer?"""
        return self.group in self.frozen or self.name(depth) in self.frozen


@dataclass(frozen=True)
class Architecture:
    """One architecture. `body(settings, config)` returns the body's output tensor;
    `export` is the script's lines that add the body to a `keras.Sequential` named `model`
    (indented four spaces, reading `CONFIG` and `init`); `gates(weights, embedded)`
    recomputes the first body layer's gates from its weights (forward direction)."""

    code: str
    name: str
    help: str  # one line: what it computes
    order: int  # its place in pickers
    body: Callable[[Body, Mapping[str, Any]], Any]
    group: str  # its body's layers, freezable as a whole or one by one (`group_N`)
    export: str
    hyperparameters: tuple[Hyperparameter, ...] = ()  # those only some architectures have
    inherited: tuple[str, ...] = ()  # of those, what shapes its weights (a started model keeps)
    masks_padding: bool = True  # the embedding masks padding (id 0) for the body
    gates: Callable[[list[np.ndarray], np.ndarray], GateTrace] | None = None

    def freezable(self, layers: int) -> tuple[str, ...]:
        """The layer groups a model of `layers` body layers can keep frozen."""
        return (EMBEDDING, self.group, *(f"{self.group}_{d}" for d in range(1, layers + 1)))
