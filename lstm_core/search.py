"""Build the scikit-learn search: Pipeline(vectorizer -> classifier) inside a *SearchCV.

Hyperparameters stay data: the spec's grid is translated to `step__param` names and handed
to `GridSearchCV`, `RandomizedSearchCV` or `HalvingGridSearchCV`. Vectorizer settings that
vary are split into sub-grids so the classifier's `preprocessing` moves in step with them.
"""

from __future__ import annotations

import os
from itertools import product

import numpy as np
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    StratifiedShuffleSplit,
)
from sklearn.pipeline import Pipeline

from lstm_core.classifier import RecurrentClassifier, TrialReporter
from lstm_core.hyperparams import FIT, HYPERPARAMETERS, MODEL, VECTORIZER, targets
from lstm_core.spec import HALVING_FACTOR, ExperimentSpec
from lstm_core.vectorizer import SequenceVectorizer

VALIDATION_SHARE = 0.2  # held out of the training split when cv = 0
PREDICT_BATCH = 256  # scoring a fold: half the time of batches of 32 (bench/RESULTS.md)


def pipeline_name(name: str) -> str:
    target = HYPERPARAMETERS[name].target
    return {MODEL: f"clf__model__{name}", FIT: f"clf__{name}", VECTORIZER: f"vec__{name}"}[target]


def threads_per_fit(n_jobs: int) -> int:
    """Cores each parallel fit may use, so that together they do not oversubscribe."""
    return max(1, (os.cpu_count() or 1) // max(1, n_jobs))


def make_pipeline(
    fixed: dict, seed: int = 0, reporter: TrialReporter | None = None, n_jobs: int = 1
) -> Pipeline:
    preprocessing = {name: fixed[name] for name in targets(VECTORIZER)}
    classifier = RecurrentClassifier(
        preprocessing=preprocessing,
        seed=seed,
        threads=threads_per_fit(n_jobs) if n_jobs > 1 else None,
        reporter=reporter,
        loss="sparse_categorical_crossentropy",
        verbose=0,
        predict__batch_size=PREDICT_BATCH,
        **{
            pipeline_name(name)[len("clf__") :]: fixed[name]
            for name in targets(MODEL) + targets(FIT)
        },
    )
    return Pipeline([("vec", SequenceVectorizer(**preprocessing)), ("clf", classifier)])


def param_grid(spec: ExperimentSpec) -> list[dict[str, list]]:
    """The spec's grid in pipeline names, one sub-grid per combination of vectorizer values."""
    fixed = spec.fixed()
    varying_text = [name for name in spec.grid if HYPERPARAMETERS[name].target == VECTORIZER]
    others = {pipeline_name(n): list(v) for n, v in spec.grid.items() if n not in varying_text}
    grids = []
    for combo in product(*(spec.grid[name] for name in varying_text)):
        chosen = dict(zip(varying_text, combo, strict=True))
        sub = dict(others)
        sub.update({pipeline_name(name): [value] for name, value in chosen.items()})
        sub["clf__preprocessing"] = [{**{n: fixed[n] for n in targets(VECTORIZER)}, **chosen}]
        grids.append(sub)
    return grids


def make_splitter(spec: ExperimentSpec):
    """Stratified folds; `cv = 0` is one stratified validation split."""
    if spec.cv == 0:
        return StratifiedShuffleSplit(
            n_splits=1, test_size=VALIDATION_SHARE, random_state=spec.seed
        )
    return StratifiedKFold(n_splits=spec.cv, shuffle=True, random_state=spec.seed)


def fold_of_each_row(splitter, y: np.ndarray) -> np.ndarray:
    """For each training row, the fold that tests it (-1: in no fold's test split)."""
    folds = np.full(len(y), -1, dtype=np.int16)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[test] = fold
    return folds


def make_search(spec: ExperimentSpec, reporter: TrialReporter | None = None):
    n_jobs = spec.effective_n_jobs()
    pipeline = make_pipeline(spec.fixed(), spec.seed, reporter, n_jobs)
    common = {
        "scoring": spec.scoring,
        "cv": make_splitter(spec),
        "refit": False,  # the run refits the best candidate itself, with every core
        "error_score": "raise",
        "n_jobs": n_jobs,
    }
    grid = param_grid(spec)
    if spec.search == "random":
        return RandomizedSearchCV(
            pipeline, grid, n_iter=spec.n_candidates(), random_state=spec.seed, **common
        )
    if spec.search == "halving":
        return HalvingGridSearchCV(
            pipeline, grid, factor=HALVING_FACTOR, random_state=spec.seed, **common
        )
    return GridSearchCV(pipeline, grid, **common)


def best_for_refit(search) -> Pipeline:
    """The best candidate, unfitted, set to use every core: the refit runs alone."""
    return clone(search.estimator).set_params(**search.best_params_, clf__threads=None)


def candidate_params(search, candidate: dict) -> dict:
    """The full configuration (people's names) of one cv_results_ candidate."""
    return clone(search.estimator).set_params(**candidate).named_steps["clf"].trial_params()
