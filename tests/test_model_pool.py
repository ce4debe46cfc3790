"""Kept models: a fit on a kept model trains exactly as on a new one, without tracing."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstm_core.domain.spec import ExperimentSpec
from lstm_core.models import model_pool
from lstm_core.models.pipeline import make_pipeline
from tests.conftest import TINY, toy_texts

TEXTS, LABELS = toy_texts(20)


def fitted(**changes):
    pipeline = make_pipeline({**ExperimentSpec("d").fixed(), **TINY, "epochs": 2, **changes})
    return pipeline.fit(TEXTS, LABELS)


@pytest.mark.parametrize("buckets", [True, False])
def test_a_kept_model_trains_exactly_like_a_new_one(buckets):
    first = fitted(units=5, length_buckets=buckets)
    model, fresh = first.named_steps["clf"].model_, first.predict_proba(TEXTS)
    del first
    again = fitted(units=5, length_buckets=buckets)
    assert again.named_steps["clf"].model_ is model
    np.testing.assert_array_equal(again.predict_proba(TEXTS), fresh)


def test_a_model_in_use_is_never_handed_out():
    held = fitted(units=6)
    before = held.predict_proba(TEXTS)
    other = fitted(units=6, epochs=3)
    assert other.named_steps["clf"].model_ is not held.named_steps["clf"].model_
    np.testing.assert_array_equal(held.predict_proba(TEXTS), before)


def test_a_fit_on_a_kept_model_traces_nothing(monkeypatch):
    traces = []
    step = keras.Model.train_step
    monkeypatch.setattr(
        keras.Model, "train_step", lambda self, data: traces.append(1) or step(self, data)
    )
    fitted(units=7)
    assert len(traces) == 1
    fitted(units=7, batch_size=8)
    assert len(traces) == 1


def test_the_pool_keeps_only_a_few_models():
    for units in range(8, 8 + model_pool.KEEP + 2):
        fitted(units=units)
    assert model_pool.kept() == model_pool.KEEP
