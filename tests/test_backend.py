"""The training backend setting: TensorFlow by default, JAX when asked, bundles either way."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_spec

from lstm_core.api import Engine, RunStatus, UserError
from lstm_core.execution.training import submit_run, train
from lstm_core.models.backend import BACKEND_VARIABLE
from lstm_core.models.batching import JAX_WIDTH_STEP, padded_width
from lstm_core.models.bundle import Bundle


def test_a_backend_that_is_not_one_is_refused_at_submit_with_a_sentence(toy_dataset, monkeypatch):
    workspace, dataset_id = toy_dataset
    monkeypatch.setenv(BACKEND_VARIABLE, "pytorch")
    with pytest.raises(UserError, match="use one of tensorflow, jax"):
        submit_run(workspace, tiny_spec(dataset_id))
    assert workspace.store.list_runs() == [], "nothing was queued"


def test_jax_widths_come_in_a_few_steps_and_never_pass_the_sequence_length():
    widths = {padded_width(n, 34, JAX_WIDTH_STEP) for n in range(1, 35)}
    assert widths == {16, 32, 34}
    assert {padded_width(n, 34, 1) for n in range(1, 35)} == set(range(1, 35))


def test_a_run_trained_on_jax_saves_a_bundle_that_tensorflow_loads_and_agrees_with(
    toy_dataset, monkeypatch
):
    pytest.importorskip("jax", reason="pip install -e '.[jax]' to train on JAX")
    workspace, dataset_id = toy_dataset
    monkeypatch.setenv(BACKEND_VARIABLE, "jax")
    # Two fit processes: fits run on JAX there; this test's process stays on TensorFlow.
    run = train(tiny_spec(dataset_id, epochs=2, n_jobs=2), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    engine = Engine(workspace.root)
    assert engine.result(run.id).backend == "jax", "the final model trained on JAX"
    import keras

    assert keras.backend.backend() == "tensorflow"
    held_out = engine.test_predictions(run.id)
    bundle = Bundle.load(engine.workspace.bundle_dir(run.id))
    mine = bundle.predict_proba([p.text for p in held_out])
    theirs = np.array([[p.probabilities[label] for label in bundle.labels] for p in held_out])
    np.testing.assert_allclose(mine, theirs, atol=1e-5)
    assert len({round(float(p), 3) for p in mine[:, 0]}) > 1, "the model says more than one thing"
