"""The scikeras shim: a real classifier to scikit-learn, so folds are stratified."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import StratifiedKFold, check_cv

from lstm_core.classifier import RecurrentClassifier, TrialReporter
from lstm_core.search import fold_of_each_row, make_pipeline, make_search, param_grid
from lstm_core.spec import ExperimentSpec
from lstm_core.store import REFIT_FOLD


def test_wrapped_model_and_pipeline_are_classifiers():
    assert is_classifier(RecurrentClassifier())
    pipeline = make_pipeline(ExperimentSpec("d").fixed())
    assert is_classifier(pipeline)
    assert isinstance(
        check_cv(3, np.array([0, 1] * 10), classifier=is_classifier(pipeline)), StratifiedKFold
    )


def test_search_folds_keep_the_class_balance():
    y = np.array(["spam"] * 13 + ["ham"] * 87, dtype=object)
    search = make_search(ExperimentSpec("d", cv=4).validated())
    for train, test in search.cv.split(np.zeros(len(y)), y):
        assert abs((y[test] == "spam").sum() - 13 / 4) <= 1
        assert abs((y[train] == "spam").sum() - 13 * 3 / 4) <= 1


def test_clone_keeps_every_setting():
    pipeline = make_pipeline({**ExperimentSpec("d").fixed(), "units": 7, "patience": 2})
    again = clone(pipeline)
    assert again.get_params()["clf__model__units"] == 7
    assert again.get_params()["clf__patience"] == 2


def test_vectorizer_values_in_the_grid_move_in_step_with_the_classifier():
    spec = ExperimentSpec("d", grid={"max_tokens": [100, 200], "units": [4, 8]}).validated()
    grids = param_grid(spec)
    assert len(grids) == 2
    for sub in grids:
        assert sub["vec__max_tokens"][0] == sub["clf__preprocessing"][0]["max_tokens"]
        assert sub["clf__model__units"] == [4, 8]


def test_reporter_names_the_fold_a_fit_leaves_out():
    y = np.array([0, 1] * 10)
    splitter = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    reporter = TrialReporter(":memory:", "run", fold_of_each_row(splitter, y))
    for fold, (train, _) in enumerate(splitter.split(np.zeros(20), y)):
        assert reporter.fold_of(train) == fold
    assert reporter.fold_of(np.arange(20)) == REFIT_FOLD


def test_bucketed_and_padded_fits_split_and_step_alike():
    """The validation split and the steps per epoch do not depend on the batching."""
    import keras

    from tests.conftest import TINY, toy_texts

    texts, labels = toy_texts(25)
    seen = {}

    class Steps(keras.callbacks.Callback):
        def __init__(self, buckets):
            super().__init__()
            self.buckets = buckets

        def on_train_begin(self, logs=None):
            seen[self.buckets] = self.params["steps"]

    for buckets in (True, False):
        fixed = {**ExperimentSpec("d").fixed(), **TINY, "epochs": 2, "batch_size": 8}
        pipeline = make_pipeline({**fixed, "length_buckets": buckets, "validation_split": 0.2})
        pipeline.set_params(clf__callbacks=[Steps(buckets)], clf__class_weight="balanced")
        pipeline.fit(texts, labels)
        history = pipeline.named_steps["clf"].history_
        assert len(history["val_loss"]) == 2
        assert set(pipeline.predict(texts)) <= {"spam", "ham"}
    assert seen[True] == seen[False] == 5  # 40 of 50 rows in batches of 8


def test_prediction_after_a_fit_traces_one_step(monkeypatch):
    """Fitting runs many steps per graph call; predicting must not unroll them (11 s)."""
    import keras

    from tests.conftest import TINY, toy_texts

    calls = []
    step = keras.Model.predict_step
    monkeypatch.setattr(
        keras.Model, "predict_step", lambda self, data: calls.append(1) or step(self, data)
    )
    texts, labels = toy_texts(40)
    pipeline = make_pipeline({**ExperimentSpec("d").fixed(), **TINY, "units": 3})
    pipeline.fit(texts, labels)
    pipeline.predict(texts)
    assert len(calls) == 1
