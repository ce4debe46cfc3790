"""Gaussian-process search on scikit-learn, so the lecture's GP search needs no PyTorch.

Optuna's own `GPSampler` runs on PyTorch (a 192 MB wheel, 754 MB installed, measured on
this project's machine): too much to add to every install for one search strategy. This
sampler keeps Optuna's study, storage and pruning and replaces only the model: after the
random start it fits scikit-learn's `GaussianProcessRegressor` (Matern 5/2 with a length
per dimension, plus noise) to the completed candidates and proposes the point of highest
expected improvement among a few thousand random points of the space. Numbers are scaled
to [0, 1] (on a log scale where the range is logarithmic); a categorical value is one-hot.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import intersection_search_space
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

CANDIDATE_POINTS = 4096  # random points the expected improvement is maximised over
EXPLORATION = 0.01  # expected improvement counts gains beyond this share of the spread


def encode(space: dict[str, BaseDistribution], params: dict[str, Any]) -> list[float]:
    """A point as numbers in [0, 1]: one per numeric value, one per category."""
    point: list[float] = []
    for name, dist in space.items():
        value = params[name]
        if isinstance(dist, CategoricalDistribution):
            point += [1.0 if value == choice else 0.0 for choice in dist.choices]
        else:
            low, high, value = (
                _scaled(dist, dist.low),
                _scaled(dist, dist.high),
                _scaled(dist, value),
            )
            point.append(0.0 if high == low else (value - low) / (high - low))
    return point


def decode(space: dict[str, BaseDistribution], point: np.ndarray) -> dict[str, Any]:
    """The values an encoded point stands for, on each distribution's own grid."""
    params: dict[str, Any] = {}
    at = 0
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            width = len(dist.choices)
            params[name] = dist.choices[int(np.argmax(point[at : at + width]))]
            at += width
            continue
        low, high = _scaled(dist, dist.low), _scaled(dist, dist.high)
        value = low + float(point[at]) * (high - low)
        value = math.exp(value) if dist.log else value
        params[name] = _on_grid(dist, value)
        at += 1
    return params


def _scaled(dist: FloatDistribution | IntDistribution, value: float) -> float:
    return math.log(value) if dist.log else float(value)


def _on_grid(dist: FloatDistribution | IntDistribution, value: float) -> int | float:
    value = min(max(value, dist.low), dist.high)
    step = getattr(dist, "step", None)
    if isinstance(dist, IntDistribution):
        step = step or 1
        return int(dist.low + round((value - dist.low) / step) * step)
    if step:
        return dist.low + round((value - dist.low) / step) * step
    return value


def random_points(space: dict[str, BaseDistribution], count: int, rng: np.random.RandomState):
    """`count` encoded points drawn uniformly over the (scaled) space."""
    columns = []
    for dist in space.values():
        if isinstance(dist, CategoricalDistribution):
            picks = rng.randint(len(dist.choices), size=count)
            columns.append(np.eye(len(dist.choices))[picks])
        else:
            columns.append(rng.uniform(size=(count, 1)))
    return np.hstack(columns)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, margin: float):
    """How much each point is expected to beat `best` by (higher values are better)."""
    from scipy.stats import norm

    std = np.maximum(std, 1e-9)
    z = (mean - best - margin) / std
    return (mean - best - margin) * norm.cdf(z) + std * norm.pdf(z)


class ScikitGPSampler(BaseSampler):
    """Optuna sampler: random for `n_startup_trials`, then a scikit-learn GP's best guess."""

    def __init__(self, seed: int | None = None, n_startup_trials: int = 4) -> None:
        self._rng = np.random.RandomState(seed)
        self._seed = seed
        self._random = RandomSampler(seed=seed)
        self._startup = n_startup_trials

    def reseed_rng(self) -> None:
        self._rng = np.random.RandomState()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        space = intersection_search_space(done)
        return {
            name: dist
            for name, dist in space.items()
            if not dist.single()
            and isinstance(dist, CategoricalDistribution | FloatDistribution | IntDistribution)
        }

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        done = [
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and all(name in t.params for name in search_space)
        ]
        if not search_space or len(done) < self._startup:
            return {}
        return decode(search_space, self._propose(search_space, done, study.direction))

    def _propose(self, space, done: list[FrozenTrial], direction: StudyDirection) -> np.ndarray:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.array([encode(space, t.params) for t in done])
        sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
        y = sign * np.array([t.value for t in done], dtype=float)
        kernel = ConstantKernel(1.0) * Matern(
            length_scale=np.ones(x.shape[1]), nu=2.5
        ) + WhiteKernel(1e-3)
        model = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=self._seed)
        with warnings.catch_warnings():  # a noise level at its bound: scores barely noisy
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        candidates = random_points(space, CANDIDATE_POINTS, self._rng)
        mean, std = model.predict(candidates, return_std=True)
        margin = EXPLORATION * (float(y.max() - y.min()) or 1.0)
        return candidates[int(np.argmax(expected_improvement(mean, std, float(y.max()), margin)))]

    def sample_independent(self, study, trial, param_name, param_distribution) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)
