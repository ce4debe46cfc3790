"""The experiment spec: a plain, JSON-serialisable description of one run.

The same spec re-run gives the same splits (the seed drives the test split, the folds and
the weight initialisation). `validated()` turns any value a person typed into canonical
values or raises one `UserError` sentence. Its field defaults are the defaults of the CLI
and the dashboard.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import coerce_values, conditioned, defaults, hyperparameter
from lstm_core.domain.ranges import Range, coerce_range
from lstm_core.domain.searches import (
    BAYESIAN,
    HALVING_RESOURCES,
    MIN_PRUNED_EPOCHS,
    PRUNERS,
    SETTING_OPTIONS,
    halving_rounds,
    reading,
    strategy,
)
from lstm_core.domain.start_settings import checked_freeze, frozen_groups

SCORINGS = ("f1_macro", "accuracy", "balanced_accuracy")
SCORING_NAMES = {
    "f1_macro": "macro-F1",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
}
MAX_SEED = 2**32 - 1  # what NumPy and scikit-learn accept as a seed
SCHEDULER_VARIABLE = (
    "LSTM_CORE_DASK_SCHEDULER"  # the default cluster (`lstm_core.execution.cluster`)
)
_SCHEDULER = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9a-fA-F:]+\]|[^\s/:\[\]]+):\d+$")
# What one fit process holds (TensorFlow, the data, a few kept models): ~870 MB measured.
FIT_PROCESS_BYTES = 900 * 2**20
MEMINFO = Path("/proc/meminfo")


def scheduler_address(value: str) -> str:
    """A scheduler address as `dask scheduler` prints it, or '' (fits run on this machine)."""
    value = (value or "").strip()
    if value and not _SCHEDULER.match(value):
        raise UserError(
            f"'{value}' is not a Dask scheduler address; give one like tcp://HOST:8786 "
            "(what `dask scheduler` prints), or leave it empty to train on this machine."
        )
    return value


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes the kernel says can be used without swapping (MemAvailable); None if unknown."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def parallel_fits(asked: int, fits: int, cores: int, memory: int | None) -> int:
    """Fit processes to start: `asked` (0: one per core), but never more than the cores,
    the `fits` that can run at once, or what `memory` bytes hold (None: unknown)."""
    limits = [cores, fits]
    if memory is not None:
        limits.append(memory // FIT_PROCESS_BYTES)
    return max(1, min(asked or cores, *limits))


def default_scheduler() -> str:
    """The scheduler a run goes to unless its design names one (`$LSTM_CORE_DASK_SCHEDULER`)."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip()


@dataclass(frozen=True)
class ExperimentSpec:
    dataset_id: str
    text_column: str = "text"
    label_column: str = "label"
    params: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    search: str = "grid"
    n_iter: int = 10
    cv: int = 3
    test_size: float = 0.2
    seed: int = 42
    scoring: str = "f1_macro"
    n_jobs: int = 0  # parallel fits; 0: one per core (measured fastest on 2 cores, see bench/)
    halving_resource: str = "samples"
    ranges: dict[str, Range] = field(default_factory=dict)  # tpe / gp: searched between bounds
    time_budget_s: float = 0.0  # tpe / gp: no new candidate after this long (0: no limit)
    prune: str = "none"  # tpe / gp: stop candidates clearly behind after an epoch
    parent: str = ""  # start from this run's saved model (transfer learning)
    freeze: str = ""  # with a parent: all, none, or layers ("embedding,recurrent_2"); "": all
    fine_tune_epochs: int = 0  # then this many epochs with everything trainable, at a lower rate
    vectors: str = ""  # start the embedding from word vectors: a stored file's id, or "self"
    vectors_corpus: str = ""  # with "self": a stored unlabelled text file to train on as well
    cluster: str = ""  # run the fits on the Dask scheduler at this address ("": this machine)
    group_repeats: bool = True  # every repeat of a text on one side of each split (data.repeats)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExperimentSpec:
        """Tolerates specs of other versions: unknown keys are dropped, missing ones default,
        but a spec stored before `group_repeats` existed split repeats apart, and resumes so."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {"group_repeats": False} | {k: v for k, v in data.items() if k in known}
        values["ranges"] = {name: Range(**r) for name, r in (values.get("ranges") or {}).items()}
        return cls(**values)

    def validated(self, given: Iterable[str] = ()) -> ExperimentSpec:
        """Canonical values; single-value grid entries become fixed parameters. `given`: the
        settings of `SETTING_OPTIONS` a person set explicitly, refused where the search ignores
        them (a silent no-op reads as if it had worked)."""
        searching = strategy(self.search)
        for name in given:
            if name not in searching.settings:
                *first, last = reading(name)
                names = f"{', '.join(first)} and {last}" if first else last
                raise UserError(
                    f"{SETTING_OPTIONS[name]} applies only to {names} search, not to "
                    f"{self.search}; drop it or choose --search {reading(name)[0]}."
                )
        if self.scoring not in SCORINGS:
            raise UserError(f"'{self.scoring}' is not a score; choose from {', '.join(SCORINGS)}.")
        if self.halving_resource not in HALVING_RESOURCES:
            raise UserError(
                f"'{self.halving_resource}' is not a halving resource; choose from "
                f"{', '.join(HALVING_RESOURCES)}."
            )
        if self.cv == 1 or not 0 <= self.cv <= 20:
            raise UserError(
                f"cv = {self.cv} is not possible; use 0 (one validation split) or 2 to 20 folds."
            )
        if not 0.05 <= self.test_size <= 0.5:  # (also refuses nan)
            raise UserError(
                f"test size {self.test_size} is out of range; use a fraction from 0.05 to 0.5."
            )
        if not isinstance(self.n_iter, int) or self.n_iter < 1:
            raise UserError(
                f"n_iter = {self.n_iter} is not possible; a search needs a budget of at least 1 candidate."
            )
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise UserError(
                f"seed = {self.seed} is not possible; use a whole number from 0 to {MAX_SEED}."
            )
        if not isinstance(self.n_jobs, int) or self.n_jobs < 0:
            raise UserError(
                f"n_jobs = {self.n_jobs} is not possible; use 0 (one per core) or more."
            )
        cluster = scheduler_address(self.cluster)
        params = {name: hyperparameter(name).coerce(value) for name, value in self.params.items()}
        grid: dict[str, list] = {}
        for name, values in self.grid.items():
            values = coerce_values(name, list(values))
            if len(values) == 1:
                params[name] = values[0]
            else:
                grid[name] = values
                params.pop(name, None)
        ranges = {name: coerce_range(name, r) for name, r in self.ranges.items()}
        for name in ranges:
            if name in grid:
                raise UserError(f"{name} has both a range and a list of values; give one of them.")
            params.pop(name, None)
        spec = replace(
            self, params=params, grid=grid, ranges=ranges, seed=int(self.seed), cluster=cluster
        )
        spec._check_bayesian()
        return replace(spec, freeze=checked_freeze(spec))

    def values_of(self, name: str) -> list:
        """Every value this design gives `name` (a grid's values, or the fixed one)."""
        return list(self.grid.get(name) or [self.fixed()[name]])

    def frozen(self) -> frozenset[str]:
        """The layers kept frozen while the new layers train (a transferred model):
        `embedding`, a body's group (`recurrent`: every recurrent layer) or one layer of it
        (`recurrent_N`)."""
        if not self.parent:
            return frozenset()
        return frozen_groups(self.freeze, self.fixed()["arch"])

    def frozen_for(self, config: dict[str, Any]) -> frozenset[str]:
        """What stays frozen in the first phase of a candidate: a transferred model's layer
        groups, or an embedding started from word vectors kept as they are."""
        if self.vectors and not config["vectors_trainable"]:
            return frozenset({"embedding"})
        return self.frozen()

    def _check_bayesian(self) -> None:
        searching = strategy(self.search)
        if not searching.learns:
            given = {
                "ranges": self.ranges,
                "prune": self.pruning,
                "time_budget_s": self.time_budget_s,
            }
            extra = [SETTING_OPTIONS[n] for n, on in given.items() if on]
            if extra:
                raise UserError(
                    f"{' and '.join(extra)} {'work' if len(extra) > 1 else 'works'} only with "
                    f"a Bayesian search; use --search {' or '.join(BAYESIAN)}."
                )
            return
        if not 0 <= self.time_budget_s < math.inf:
            raise UserError(
                f"time budget {self.time_budget_s} s is not possible; use 0 (none) or more seconds."
            )
        if self.prune not in PRUNERS:
            raise UserError(f"'{self.prune}' is not a pruner; choose from {', '.join(PRUNERS)}.")
        if self.pruning and self.highest("epochs") < MIN_PRUNED_EPOCHS:
            raise UserError(
                f"Pruning stops candidates between epochs; give at least {MIN_PRUNED_EPOCHS} "
                "epochs or turn pruning off."
            )
        if self.pruning and self.lowest("validation_split") <= 0:
            raise UserError(
                "Pruning compares validation scores after each epoch; set validation_split "
                "above 0 or turn pruning off."
            )

    @property
    def pruning(self) -> bool:
        return self.prune != "none"

    def lowest(self, name: str) -> float:
        """The smallest value this design gives `name` (fixed, in the grid or in a range)."""
        if name in self.ranges:
            return self.ranges[name].low
        return min(self.grid.get(name) or [self.fixed()[name]])

    def highest(self, name: str) -> float:
        if name in self.ranges:
            return self.ranges[name].high
        return max(self.grid.get(name) or [self.fixed()[name]])

    def architectures(self) -> list[str]:
        """The architectures this design tries (codes such as "lstm")."""
        return list(self.grid.get("arch") or [self.fixed()["arch"]])

    def fixed(self) -> dict[str, Any]:
        """Every hyperparameter's value outside the grid: defaults overlaid by `params`."""
        return {**defaults(), **self.params}

    def search_space(self) -> list[dict[str, list]]:
        """The grid as scikit-learn's list of sub-grids. A hyperparameter that matters only
        under a condition (the dense layer's activation, a recurrent cell's dropout) is
        searched only in the sub-grids where it holds, and is None in the others: its
        values would give the same model there."""
        space = [dict(self.grid)]
        fixed = self.fixed()
        for parameter in conditioned():
            condition, name = parameter.condition, parameter.name
            split = []
            for grid in space:
                parents = grid.get(condition.parent, [fixed[condition.parent]])
                moot = [v for v in parents if not condition.holds(v)]
                live = [v for v in parents if condition.holds(v)]
                if moot:
                    split.append({**grid, condition.parent: moot, name: [None]})
                if live:
                    split.append({**grid, condition.parent: live})
            space = split
        return space

    def moot(self) -> list[str]:
        """The searched hyperparameters (grid lists of several values, ranges) that matter
        in none of this design's candidates."""
        searched = [n for n, v in self.grid.items() if len(v) > 1] + list(self.ranges)
        space = self.search_space()
        return [n for n in searched if all(grid.get(n) == [None] for grid in space)]

    def n_grid_points(self) -> int:
        return sum(math.prod(len(v) for v in grid.values()) for grid in self.search_space())

    def n_candidates(self) -> int:
        """Candidates the search tries (at most, for a Bayesian search: pruning and a time
        budget can end it sooner)."""
        searching = strategy(self.search)
        if searching.learns and self.ranges:
            return self.n_iter
        points = self.n_grid_points()
        return min(self.n_iter, points) if "n_iter" in searching.settings else points

    def effective_n_jobs(self) -> int:
        """Fit processes a run starts: as asked, or one per core, but never more than the
        cores, the fits that can run at once, or what free memory holds."""
        return parallel_fits(self.n_jobs, self.fits_at_once(), usable_cores(), available_memory())

    def proposal_batch(self) -> int:
        """Candidates a Bayesian search asks for at a time: as asked (or one per core), not
        cut by free memory, so the same seed proposes the same candidates on a resume."""
        return self.n_jobs or max(1, min(usable_cores(), self.fits_at_once()))

    def fits_at_once(self) -> int:
        """The most fits a round of the search can have running together."""
        return self.n_candidates() * self.n_splits()

    def parallel_fits_note(self) -> str:
        """One sentence when fewer fit processes run than asked for (or than cores, for
        lack of memory), naming what limits them; '' otherwise and for a cluster."""
        if self.cluster:
            return ""
        fits, cores, memory = self.fits_at_once(), usable_cores(), available_memory()
        n = parallel_fits(self.n_jobs, fits, cores, memory)
        wanted = self.n_jobs or min(cores, fits)
        if n >= wanted:
            return ""
        held = None if memory is None else max(1, memory // FIT_PROCESS_BYTES)
        reasons = [
            reason
            for limit, reason in (
                (fits, f"the search has {fits} fit(s) at a time"),
                (cores, f"this machine has {cores} core(s)"),
                (
                    held,
                    f"free memory holds {held} fit process(es) "
                    f"of about {FIT_PROCESS_BYTES // 2**20} MB",
                ),
            )
            if limit == n
        ]
        asked = (
            f"{self.n_jobs} parallel fits were asked for"
            if self.n_jobs
            else f"One fit process per core would be {wanted}"
        )
        return f"{asked}, but {n} run at once: {' and '.join(reasons)}."

    def n_splits(self) -> int:
        return max(self.cv, 1)

    def rounds(self) -> list[int]:
        """Candidates in each round: one round, or successive halving's shrinking rounds."""
        if self.search != "halving":
            return [self.n_candidates()]
        return halving_rounds(self.n_candidates())

    def n_fits(self) -> int:
        """Fits the search will make, the final refit included."""
        return sum(self.rounds()) * self.n_splits() + 1

    def candidates(self) -> list[dict[str, Any]]:
        """Every grid point as a full configuration, in the order the grid search tries them
        (a hyperparameter searched in a range at the middle of it, for estimates)."""
        from sklearn.model_selection import ParameterGrid

        fixed = self.fixed() | {
            name: r.middle(hyperparameter(name).integer) for name, r in self.ranges.items()
        }
        return [{**fixed, **point} for point in ParameterGrid(self.search_space())]

    def typical_candidates(self) -> list[dict[str, Any]]:
        """As many configurations as the search tries, to estimate its cost: the grid's
        first ones, or for a Bayesian search its grid points over and over."""
        points = self.candidates()
        return [points[i % len(points)] for i in range(self.n_candidates())]


def min_examples_per_class(cv: int, test_size: float) -> int:
    """Smallest class size that leaves one test example and one example per CV fold."""
    folds = max(cv, 2)
    return max(math.ceil(folds / (1.0 - test_size)), math.ceil(1.0 / test_size))


@dataclass(frozen=True)
class ResolvedSpec:
    """A design checked against its workspace and completed by its starting point
    (`Engine.resolve`), as a run is stored with it: submitting one resolves nothing again."""

    spec: ExperimentSpec
