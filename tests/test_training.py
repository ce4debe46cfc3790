"""Whole runs on small data: the trial loop, per-epoch records, evaluation, bundle, cancel,
failure, and the held-out predictions kept for later."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import TINY, tiny_spec

from lstm_core.api import Engine, RunStatus, TrialStatus
from lstm_core.data.datasets import load_dataset
from lstm_core.execution.run_loop import fold_rows, holdout_split
from lstm_core.execution.training import execute_run, submit_run, train
from lstm_core.models.bundle import Bundle, export_zip


def test_grid_run_records_every_fit_with_its_candidate_and_fold(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, epochs=2), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    result = Engine(workspace.root).result(run.id)
    trials = workspace.store.trials(run.id)
    assert [(t.candidate, t.fold, t.params["arch"]) for t in trials] == [
        (0, 0, "lstm"),
        (0, 1, "lstm"),
        (1, 0, "gru"),
        (1, 1, "gru"),
        (result.best_candidate, None, result.best_params["arch"]),
    ]
    assert all(t.status == TrialStatus.COMPLETED and t.round == 0 for t in trials)
    assert all(t.score is not None for t in trials if not t.is_refit)
    cv = [t for t in trials if not t.is_refit]
    best_mean = max(np.mean([t.score for t in cv if t.candidate == c]) for c in (0, 1))
    assert result.cv_best_score == pytest.approx(best_mean)
    assert run.trials_total == run.trials_done == 5
    epochs = workspace.store.epochs(run.id)
    assert len(epochs) == 5 * 2
    assert all(e.loss is not None and e.val_loss is not None and e.seconds > 0 for e in epochs)

    assert (result.n_test, result.n_train) == (15, 45)
    test = result.test
    assert set(test.per_class) == {"ham", "spam"}
    assert np.sum(test.confusion_matrix) == 15
    assert 0 <= test.roc_auc <= 1 and test.positive_label in ("ham", "spam")
    assert result.baseline.accuracy >= 0.9


def test_each_fit_is_trained_and_scored_on_the_rows_of_its_fold(toy_dataset):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, cv=3, grid={}).validated()
    run = train(spec, workspace)
    labels = load_dataset(workspace, dataset_id).labels.astype(str).astype(object)
    train_rows, _ = holdout_split(spec, labels)
    folds = fold_rows(spec, labels, train_rows)
    trials = [t for t in workspace.store.trials(run.id) if not t.is_refit]
    assert [t.fold for t in trials] == [0, 1, 2]
    assert [t.n_train for t in trials] == [len(fit) for fit, _ in folds]
    # the scored rows of the folds are the training split, each row once
    assert sorted(np.concatenate([scored for _, scored in folds])) == sorted(train_rows)


def test_test_predictions_are_kept_with_the_baselines_answer(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, grid={}), workspace)
    engine = Engine(workspace.root)
    predictions = engine.test_predictions(run.id)
    data = load_dataset(workspace, dataset_id)
    result = engine.result(run.id)
    assert len(predictions) == result.n_test == 15
    for p in predictions:
        assert data.texts[p.row] == p.text and data.labels[p.row] == p.true
        assert sum(p.probabilities.values()) == pytest.approx(1, abs=1e-4)
        assert p.predicted == max(p.probabilities, key=p.probabilities.get)
        assert p.baseline_predicted in ("ham", "spam")
    accuracy = np.mean([p.predicted == p.true for p in predictions])
    assert accuracy == pytest.approx(result.test.accuracy)
    baseline = np.mean([p.baseline_predicted == p.true for p in predictions])
    assert baseline == pytest.approx(result.baseline.accuracy)


def test_vectorizer_never_sees_the_test_split(toy_dataset):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, grid={}, params={**TINY, "max_tokens": 10_000})
    run = train(spec, workspace)
    bundle = Bundle.load(workspace.bundle_dir(run.id))
    data = load_dataset(workspace, dataset_id)
    train_rows, _ = holdout_split(spec.validated(), data.labels)
    train_tokens = {t for text in data.texts[train_rows] for t in text.split()}
    assert set(bundle.vectorizer.vocabulary_) <= train_tokens


def test_bundle_predicts_the_same_in_a_fresh_process(toy_dataset, tmp_path):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, grid={}, epochs=3), workspace)
    folder = workspace.bundle_dir(run.id)
    texts = ["win cash prize now", "see you at home tonight"]
    here = Bundle.load(folder).predict(texts)
    code = (
        "import json,sys; from lstm_core.models.bundle import Bundle; from lstm_core.domain.entities import "
        "to_plain; print(json.dumps(to_plain(Bundle.load(sys.argv[1]).predict(sys.argv[2:]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), *texts],
        capture_output=True,
        text=True,
        check=True,
    )
    there = json.loads(out.stdout.strip().splitlines()[-1])
    assert [p["label"] for p in there] == [p.label for p in here]
    for a, b in zip(here, there, strict=True):
        for label in a.probabilities:
            assert a.probabilities[label] == pytest.approx(b["probabilities"][label], abs=1e-5)
    archive = export_zip(folder, tmp_path / "model.zip")
    assert set(zipfile.ZipFile(archive).namelist()) == {
        "model.keras",
        "vectorizer.json",
        "labels.json",
        "spec.json",
        "metrics.json",
    }


def test_same_spec_and_seed_give_the_same_splits_and_scores(toy_dataset):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, grid={})
    first, second = train(spec, workspace), train(spec, workspace)

    def key(run):
        return [(t.fold, t.n_train, t.score) for t in workspace.store.trials(run.id)]

    assert key(first) == key(second)
    engine = Engine(workspace.root)
    assert engine.result(first.id).test == engine.result(second.id).test


def test_random_search_fits_the_sampled_candidates(toy_dataset):
    workspace, dataset_id = toy_dataset
    grid = {"arch": ["lstm", "gru"], "units": [2, 4]}
    run = train(tiny_spec(dataset_id, search="random", n_iter=2, grid=grid), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    trials = [t for t in workspace.store.trials(run.id) if not t.is_refit]
    assert sorted((t.candidate, t.fold) for t in trials) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 2


def test_halving_records_each_round_and_gives_survivors_more_rows(toy_dataset):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, search="halving", grid={"units": [2, 3, 4, 5]})
    run = train(spec, workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    trials = [t for t in workspace.store.trials(run.id) if not t.is_refit]
    first = [t for t in trials if t.round == 0]
    second = [t for t in trials if t.round == 1]
    assert sorted({t.candidate for t in first}) == [0, 1, 2, 3]
    assert len({t.candidate for t in second}) == 2 and len(second) == 4
    # the survivors are the two best of the first round
    means = {c: np.mean([t.score for t in first if t.candidate == c]) for c in range(4)}
    ranked = sorted(means, key=lambda c: (-means[c], c))
    assert {t.candidate for t in second} == set(ranked[:2])
    for fold in (0, 1):
        small = {t.n_train for t in first if t.fold == fold}
        large = {t.n_train for t in second if t.fold == fold}
        assert len(small) == len(large) == 1 and large.pop() >= 1.8 * small.pop()
    assert run.trials_total == spec.validated().n_fits() == run.trials_done == 13


def test_cv_zero_is_one_fit_per_candidate_on_a_validation_split(toy_dataset):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, cv=0), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    folds = [t.fold for t in workspace.store.trials(run.id)]
    assert folds == [0, 0, None]


def test_cancelled_before_start_ends_cancelled(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    workspace.store.request_cancel(run_id)
    run = execute_run(workspace, run_id)
    assert run.status == RunStatus.CANCELLED
    assert workspace.store.trials(run_id) == []
    assert not workspace.bundle_dir(run_id).exists()


def test_a_broken_run_is_failed_with_its_error_kept(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    (workspace.dataset_dir(dataset_id) / "data.csv").unlink()
    run = execute_run(workspace, run_id)
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(f"Dataset {dataset_id} is not in the workspace")


def test_a_fit_that_raises_fails_the_run_with_the_fits_traceback(toy_dataset, monkeypatch):
    workspace, dataset_id = toy_dataset

    def broken(*args, **kwargs):
        raise MemoryError("no room for the model")

    monkeypatch.setattr("lstm_core.models.classifier.build_model", broken)
    # settings no other test uses, so no kept model of them exists in this process
    run = train(
        tiny_spec(dataset_id, grid={}, params={**TINY, "units": 9, "embedding_dim": 3}), workspace
    )
    assert run.status == RunStatus.FAILED
    assert run.error == "MemoryError: no room for the model"
    assert "in broken" in run.traceback
    (trial,) = workspace.store.trials(run.id)
    assert trial.status == TrialStatus.FAILED


@pytest.mark.parametrize("search", ["halving", "random"])
def test_a_search_with_a_single_candidate_scores_it_and_refits_it(toy_dataset, search):
    workspace, dataset_id = toy_dataset
    run = train(tiny_spec(dataset_id, grid={}, search=search), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    trials = workspace.store.trials(run.id)
    assert [(t.candidate, t.round, t.fold) for t in trials] == [(0, 0, 0), (0, 0, 1), (0, 0, None)]
    assert Engine(workspace.root).result(run.id).best_params == {}
