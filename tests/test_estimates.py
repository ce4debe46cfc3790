"""The pre-launch time estimate moves the way the measured costs do."""

from __future__ import annotations

from lstm_core.estimates import estimate_run_seconds
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
