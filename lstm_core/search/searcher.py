"""What every searcher is: it proposes candidates and hears back their scores (ask / tell);
the run owns the loop that fits them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    number: int
    config: dict[str, Any]  # every hyperparameter, as this round trains it
    round: int = 0
    rows_share: float = 1.0  # share of each fold's training rows this round trains on


class Searcher(ABC):
    def __init__(self) -> None:
        self.scores: dict[tuple[int, int], float] = {}
        self.pruned: set[int] = set()  # candidates stopped early: no score, never best

    @abstractmethod
    def ask(self) -> list[Candidate]:
        """The next candidates to score on every fold; an empty list ends the search."""

    def report(self, candidate: int, fold: int | None, epoch: int, value: float) -> bool:
        """A fit's validation value after an epoch (higher is better); True: stop the
        candidate now (it joins `pruned`). Only searchers with a pruner ever say so."""
        return False

    def tell(self, candidate: Candidate, score: float) -> None:
        """A candidate's mean score over the folds."""
        self.scores[(candidate.number, candidate.round)] = score

    @abstractmethod
    def best(self) -> Candidate:
        """The candidate to refit on the whole training split."""

    def _best_of(self, candidates: list[Candidate]) -> Candidate:
        """Highest score; a tie goes to the candidate tried first."""
        return max(candidates, key=lambda c: (self.scores[(c.number, c.round)], -c.number))
