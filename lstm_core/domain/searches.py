"""The search strategies as data: one record each, read by the spec (which settings apply),
the CLI and the Experiment page (names, labels, help) and the advice.

How each one searches lives in `lstm_core.search`; successive halving's rounds are here
because a design's number of fits follows from them before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lstm_core.domain.errors import UserError

# The spec's settings only some strategies read, with the CLI options that set them.
SETTING_OPTIONS = {
    "n_iter": "--n-iter / --budget",
    "halving_resource": "--halving-resource",
    "ranges": "--range",
    "prune": "--prune",
    "time_budget_s": "--time-budget",
}
BAYESIAN_SETTINGS = ("n_iter", "ranges", "prune", "time_budget_s")


@dataclass(frozen=True)
class SearchStrategy:
    code: str
    label: str  # as a picker shows it
    help: str
    settings: tuple[str, ...] = ()  # those of SETTING_OPTIONS it reads
    learns: bool = False  # proposes each candidate from the scores so far (on Optuna)


STRATEGIES = (
    SearchStrategy("grid", "Every combination", "Every combination of the values picked."),
    SearchStrategy(
        "random",
        "Random sample",
        "A sample of the combinations, drawn with the seed.",
        ("n_iter",),
    ),
    SearchStrategy(
        "halving",
        "Successive halving",
        "Every combination on a small share of the rows (or epochs), the better half on "
        "twice as much, until the last round trains on all of it.",
        ("halving_resource",),
    ),
    SearchStrategy(
        "tpe",
        "Bayesian: TPE",
        "Each candidate proposed from the scores of the ones before (tree-structured "
        "Parzen estimators); values can be searched between bounds.",
        BAYESIAN_SETTINGS,
        learns=True,
    ),
    SearchStrategy(
        "gp",
        "Bayesian: Gaussian process",
        "Each candidate proposed from the scores of the ones before (scikit-learn's "
        "Gaussian process, expected improvement); values can be searched between bounds.",
        BAYESIAN_SETTINGS,
        learns=True,
    ),
)
SEARCHES = tuple(s.code for s in STRATEGIES)
BAYESIAN = tuple(s.code for s in STRATEGIES if s.learns)
PRUNERS = {
    "none": "off: every candidate trains to the end",
    "median": "median: stop one behind the median of the finished ones",
    "hyperband": "Hyperband: successive halving over epochs",
}
MIN_PRUNED_EPOCHS = 3  # the median pruner skips epoch 1; a last epoch saves nothing
HALVING_RESOURCES = ("samples", "epochs")
HALVING_FACTOR = 2


def strategy(code: str) -> SearchStrategy:
    for candidate in STRATEGIES:
        if candidate.code == code:
            return candidate
    raise UserError(f"'{code}' is not a search strategy; choose from {', '.join(SEARCHES)}.")


def reading(setting: str) -> list[str]:
    """The strategies that read `setting`."""
    return [s.code for s in STRATEGIES if setting in s.settings]


def halving_rounds(n_candidates: int, factor: int = HALVING_FACTOR) -> list[int]:
    """[8, 4, 2]: each round keeps the best 1/factor, until at most `factor` are left.

    The last round trains on the whole resource, each earlier one on 1/factor of the next.
    """
    rounds = [max(1, n_candidates)]
    while rounds[-1] > factor:
        rounds.append(math.ceil(rounds[-1] / factor))
    return rounds


def resource_share(round_index: int, n_rounds: int, factor: int = HALVING_FACTOR) -> float:
    """Share of the full resource (training rows or epochs) a halving round uses."""
    return float(factor) ** (round_index - (n_rounds - 1))
