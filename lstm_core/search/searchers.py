"""Searchers propose candidates and hear back their scores (ask / tell); the run owns the loop.

Grid and random candidates come from scikit-learn's `ParameterGrid` and `ParameterSampler`;
successive halving is a searcher too. A searcher never fits anything: the run's trial loop
(`lstm_core.execution.run_loop`) fits each candidate on every fold, wherever its executor runs fits,
and tells the searcher the mean fold score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstm_core.domain.searches import resource_share, strategy
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.search.bayes import BayesianSearcher
from lstm_core.search.searcher import Candidate, Searcher


class _OneRound(Searcher):
    """Score a fixed list of configurations once."""

    def __init__(self, configs: list[dict[str, Any]]):
        super().__init__()
        self.candidates = [Candidate(i, config) for i, config in enumerate(configs)]
        self._asked = False

    def ask(self) -> list[Candidate]:
        if self._asked:
            return []
        self._asked = True
        return list(self.candidates)

    def best(self) -> Candidate:
        return self._best_of(self.candidates)


class GridSearcher(_OneRound):
    def __init__(self, spec: ExperimentSpec):
        super().__init__(spec.candidates())


class RandomSearcher(_OneRound):
    """`n_iter` grid points drawn with the run's seed (the same seed draws the same points)."""

    def __init__(self, spec: ExperimentSpec):
        from sklearn.model_selection import ParameterSampler

        fixed = spec.fixed()
        points = ParameterSampler(
            spec.search_space(), n_iter=spec.n_candidates(), random_state=spec.seed
        )
        super().__init__([{**fixed, **point} for point in points])


class HalvingSearcher(Searcher):
    """Successive halving: every candidate on a small share of the resource, the best half
    of them on twice as much, and so on until the last round trains on all of it.

    The resource is training rows (`samples`) or `epochs`; the rounds are fixed by the
    number of candidates (`spec.rounds()`), so the number of fits is known before the first.
    """

    def __init__(self, spec: ExperimentSpec):
        super().__init__()
        self.sizes = spec.rounds()
        self.resource = spec.halving_resource
        self.configs = spec.candidates()
        self.round = -1
        self.current: list[Candidate] = []

    def ask(self) -> list[Candidate]:
        if self.round + 1 >= len(self.sizes):
            return []
        if self.round < 0:
            numbers = list(range(len(self.configs)))
        else:
            ranked = sorted(
                self.current, key=lambda c: (-self.scores[(c.number, c.round)], c.number)
            )
            numbers = sorted(c.number for c in ranked[: self.sizes[self.round + 1]])
        self.round += 1
        self.current = [self._candidate(n) for n in numbers]
        return list(self.current)

    def _candidate(self, number: int) -> Candidate:
        share = resource_share(self.round, len(self.sizes))
        config = dict(self.configs[number])
        if self.resource == "epochs":
            config["epochs"] = max(1, round(config["epochs"] * share))
            return Candidate(number, config, self.round)
        return Candidate(number, config, self.round, rows_share=share)

    def best(self) -> Candidate:
        best = self._best_of(self.current)
        return Candidate(best.number, dict(self.configs[best.number]), best.round)


SEARCHERS = {"grid": GridSearcher, "random": RandomSearcher, "halving": HalvingSearcher}


def make_searcher(
    spec: ExperimentSpec, study_file: Path | None = None, run_id: str = "", slots: int = 0
) -> Searcher:
    """The spec's searcher; a Bayesian one keeps its study in `study_file`, named `run_id`,
    and asks `slots` candidates at a time (the fits the executor runs at once; 0: the
    spec's parallel fits)."""
    if strategy(spec.search).learns:
        if study_file is None:
            raise ValueError("a Bayesian search needs a file for its study")
        return BayesianSearcher(spec, study_file, run_id, slots or spec.proposal_batch())
    return SEARCHERS[spec.search](spec)
