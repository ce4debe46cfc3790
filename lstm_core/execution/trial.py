"""One fit, described completely enough to run anywhere: this process, a fit process, a cluster.

A `TrialTask` says what to fit (a full configuration, the rows to train on and the rows to
score, the seed); the `TrialContext` says whose fit it is (run, trial id, candidate, round,
fold), given to it before it starts, never inferred afterwards. While it fits
(`lstm_core.execution.fitting`) it sends events (`EpochEnded`, `FitProgress`) through a
`TrialChannel` and asks the channel whether to stop; it returns a `TrialOutcome`. These are
the messages only: whoever fits, and whoever listens, imports them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from lstm_core.domain.entities import Epoch, ParameterCounts, TrialStatus
from lstm_core.domain.hyperparams import model_key

if TYPE_CHECKING:
    from lstm_core.models.starting import StartingPoint


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Every text and label of a dataset; tasks name rows of it by index. `start`: what
    every fit starts from besides random weights (a saved model, word vectors)."""

    texts: np.ndarray
    labels: np.ndarray
    start: StartingPoint | None = None


@dataclass(frozen=True, eq=False)
class TrialTask:
    run_id: str
    candidate: int
    round: int
    fold: int | None  # None: the refit of the best candidate on the whole training split
    config: dict[str, Any]
    fit_rows: np.ndarray
    eval_rows: np.ndarray
    scoring: str
    seed: int

    @property
    def is_refit(self) -> bool:
        return self.fold is None

    @property
    def key(self) -> tuple:
        """What identifies this fit within its run (and lets a resumed run skip it)."""
        return (self.candidate, self.round, self.fold)

    @property
    def model_key(self) -> tuple:
        return model_key(self.config)


@dataclass(frozen=True)
class TrialContext:
    run_id: str
    trial_id: int
    candidate: int
    round: int
    fold: int | None


@dataclass(frozen=True)
class EpochEnded:
    epoch: Epoch


@dataclass(frozen=True)
class FitProgress:
    trial_id: int
    fraction: float


@dataclass(frozen=True, eq=False)
class RefitArtifacts:
    """What the run needs from its refit to evaluate it and write the bundle."""

    model_file: bytes  # the `.keras` file
    vectorizer_json: str
    classes: list[str]
    test_proba: np.ndarray
    sequence_length: int
    longest_text_tokens: int
    vocabulary_size: int
    parameters: ParameterCounts
    backend: str  # the Keras backend it trained on (`lstm_core.models.backend`)


@dataclass(frozen=True, eq=False)
class TrialOutcome:
    context: TrialContext
    status: TrialStatus
    score: float | None = None
    accuracy: float | None = None
    error: str | None = None
    traceback: str | None = None
    refit: RefitArtifacts | None = field(default=None, repr=False)


class TrialChannel(Protocol):
    """Where a fit reports to, and how it learns that its run wants it to stop."""

    def send(self, event: EpochEnded | FitProgress) -> None: ...

    def stop_requested(self) -> bool: ...
