"""Whole runs on small data: search, per-epoch records, evaluation, bundle, cancel, failure."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import TINY, tiny_spec

from lstm_core.bundle import Bundle, export_zip
from lstm_core.datasets import load_dataset
from lstm_core.training import execute_run, submit_run, train


def test_grid_run_records_every_fit_and_evaluates_once(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, epochs=2), workspace)
    assert run["status"] == "completed", run["error"]
    trials = workspace.store.trials(run["id"])
    assert sorted((t["params"]["arch"], t["fold"]) for t in trials) == sorted(
        [
            ("lstm", 0),
            ("lstm", 1),
            ("gru", 0),
            ("gru", 1),
            (run["result"]["best_params"]["arch"], -1),
        ]
    )
    assert all(t["status"] == "completed" for t in trials)
    assert all(t["score"] is not None for t in trials if t["fold"] >= 0)
    epochs = workspace.store.epochs(run["id"])
    assert len(epochs) == 5 * 2
    assert all(
        e["loss"] is not None and e["val_loss"] is not None and e["seconds"] > 0 for e in epochs
    )

    result = run["result"]
    assert result["n_test"] == 15 and result["n_train"] == 45
    test = result["test"]
    assert set(test["per_class"]) == {"ham", "spam"}
    assert np.sum(test["confusion_matrix"]) == 15
    assert 0 <= test["roc_auc"] <= 1 and test["positive_label"] in ("ham", "spam")
    assert result["baseline"]["accuracy"] >= 0.9
    cv = run["cv_results"]
    assert len(cv["mean_test_score"]) == 2 and {c["arch"] for c in cv["config"]} == {"lstm", "gru"}


def test_vectorizer_never_sees_the_test_split(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, grid={}, params={**TINY, "max_tokens": 10_000}), workspace)
    bundle = Bundle.load(workspace.bundle_dir(run["id"]))
    data = load_dataset(workspace, dataset_id)
    from sklearn.model_selection import train_test_split

    x_train, x_test, *_ = train_test_split(
        data.texts, data.labels, test_size=0.25, stratify=data.labels, random_state=42
    )
    train_tokens = {t for text in x_train for t in text.split()}
    assert set(bundle.vectorizer.vocabulary_) <= train_tokens


def test_bundle_predicts_the_same_in_a_fresh_process(toy_dataset, tmp_path):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, grid={}, epochs=3), workspace)
    folder = workspace.bundle_dir(run["id"])
    texts = ["win cash prize now", "see you at home tonight"]
    here = Bundle.load(folder).predict(texts)
    code = "import json,sys; from lstm_core.bundle import Bundle; print(json.dumps(Bundle.load(sys.argv[1]).predict(sys.argv[2:])))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), *texts],
        capture_output=True,
        text=True,
        check=True,
    )
    there = json.loads(out.stdout.strip().splitlines()[-1])
    assert [p["label"] for p in there] == [p["label"] for p in here]
    for a, b in zip(here, there, strict=True):
        for label in a["probabilities"]:
            assert a["probabilities"][label] == pytest.approx(b["probabilities"][label], abs=1e-5)
    archive = export_zip(folder, tmp_path / "model.zip")
    assert set(zipfile.ZipFile(archive).namelist()) == {
        "model.keras",
        "vectorizer.json",
        "labels.json",
        "spec.json",
        "metrics.json",
    }


def test_same_spec_and_seed_give_the_same_splits(toy_dataset):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, grid={})
    first, second = train(spec, workspace), train(spec, workspace)
    key = lambda run: [(t["fold"], t["n_train"]) for t in workspace.store.trials(run["id"])]  # noqa: E731
    assert key(first) == key(second)
    assert first["result"]["test"]["per_class"] == second["result"]["test"]["per_class"]
    assert (
        first["result"]["test"]["confusion_matrix"] == second["result"]["test"]["confusion_matrix"]
    )


@pytest.mark.parametrize("search", ["random", "halving"])
def test_random_and_halving_searches_complete(toy_dataset, search):
    workspace, dataset_id = toy_dataset
    grid = {"arch": ["lstm", "gru"], "units": [2, 4]} if search == "random" else {"units": [2, 4]}
    run = train(tiny_spec(dataset_id, search=search, n_iter=2, grid=grid), workspace)
    assert run["status"] == "completed", run["error"]
    trials = [t for t in workspace.store.trials(run["id"]) if t["fold"] >= 0]
    candidates = {json.dumps(t["params"], sort_keys=True) for t in trials}
    assert len(candidates) == 2
    if search == "halving":  # the survivor's second round trains on about twice the rows
        sizes = sorted(t["n_train"] for t in trials)
        assert sizes[-1] >= 1.8 * sizes[0]


def test_cv_zero_is_one_fit_per_candidate_on_a_validation_split(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, cv=0), workspace)
    assert run["status"] == "completed", run["error"]
    folds = sorted(t["fold"] for t in workspace.store.trials(run["id"]))
    assert folds == [-1, 0, 0]


def test_cancelled_before_start_ends_cancelled(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    workspace.store.request_cancel(run_id)
    run = execute_run(workspace, run_id)
    assert run["status"] == "cancelled"
    assert not workspace.bundle_dir(run_id).exists()


def test_a_broken_run_is_failed_with_its_error_kept(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    (workspace.dataset_dir(dataset_id) / "data.csv").unlink()
    run = execute_run(workspace, run_id)
    assert run["status"] == "failed"
    assert run["error"].startswith(f"Dataset {dataset_id} is not in the workspace")
