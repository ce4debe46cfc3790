"""How many of a run's fits are done: one rule, for the runs list and for a run's progress.

A pruned candidate counts all its folds as done (none of them will run), and its completed
folds are not counted twice. The store counts from `FitTally` rows a backend groups for
many runs at once; `lstm_core.insight.progress` counts from a run's trials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lstm_core.domain.entities import Trial, TrialStatus


@dataclass(frozen=True)
class FitTally:
    """How many fits of one candidate (or of its refit) ended in one status."""

    candidate: int | None
    is_refit: bool
    status: str
    count: int = 1


def tallies(trials: Iterable[Trial]) -> list[FitTally]:
    return [FitTally(t.candidate, t.is_refit, t.status) for t in trials]


def fits_done(fits: Iterable[FitTally], n_splits: int) -> int:
    """Completed fits, plus every fold of each pruned candidate."""
    fits = list(fits)
    pruned = {f.candidate for f in fits if f.status == TrialStatus.PRUNED and not f.is_refit}
    completed = sum(
        f.count
        for f in fits
        if f.status == TrialStatus.COMPLETED and (f.is_refit or f.candidate not in pruned)
    )
    return completed + len(pruned) * n_splits
