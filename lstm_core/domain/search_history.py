"""What a Bayesian search has tried so far, in the engine's own terms: the dashboard draws
its figures from this, never from the search library's study object."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class SearchState(enum.StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    WAITING = "waiting"


@dataclass(frozen=True)
class Dimension:
    """One searched hyperparameter: a list of `choices`, or a range from `low` to `high`
    (drawn in the logarithm when `log`; whole numbers when `integer`)."""

    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class SearchTrial:
    """One proposed candidate: `number` is its candidate number (counted from 0)."""

    number: int
    state: SearchState
    value: float | None
    params: dict[str, Any]


@dataclass(frozen=True)
class SearchHistory:
    """A Bayesian run's proposals in the order they were made, over `space`."""

    trials: list[SearchTrial]
    space: dict[str, Dimension] = field(default_factory=dict)

    def scored(self) -> list[SearchTrial]:
        """The candidates that got a score on every fold, oldest first."""
        return [t for t in self.trials if t.state == SearchState.COMPLETE and t.value is not None]
