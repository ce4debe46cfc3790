"""The pre-launch time estimate moves the way the measured costs do."""

from __future__ import annotations

import pytest

from lstm_core.estimates import TRACE_SECONDS_PER_FIT, estimate_run_seconds
from lstm_core.spec import ExperimentSpec


def estimate(**params) -> float:
    spec = ExperimentSpec("d", params=params, grid={"units": [16, 32]}, cv=2, n_jobs=1)
    return estimate_run_seconds(spec.validated(), n_rows=5572, auto_length=34)


def test_estimate_follows_the_settings_that_cost_time():
    base = estimate()
    assert estimate(length_buckets=False) > base
    assert estimate(recurrent_dropout=0.2) > 1.5 * base
    assert estimate(epochs=6) > 1.5 * base
    padded = {"length_buckets": False}
    assert estimate(**padded, sequence_length=190) > 3 * estimate(**padded, sequence_length=34)
    assert estimate(**padded, sequence_length=190) > 3 * estimate(sequence_length=190)


def test_fits_of_one_architecture_pay_for_tracing_once_per_process():
    def seconds(grid, n_jobs):
        spec = ExperimentSpec("d", grid=grid, cv=2, n_jobs=n_jobs, params={"epochs": 1})
        return estimate_run_seconds(spec.validated(), n_rows=200, auto_length=10)

    same_model = {"batch_size": [16, 32, 64]}
    new_models = {"units": [16, 17, 18]}
    # one trace for the whole grid against one per architecture (folds reuse it)
    extra = seconds(new_models, 1) - seconds(same_model, 1)
    assert extra == pytest.approx(2 * TRACE_SECONDS_PER_FIT, abs=0.5)
