"""The scikeras shim: a real scikit-learn classifier that only fits (stratified folds in a
user's own GridSearchCV, callbacks for whoever wants to hear about epochs)."""

from __future__ import annotations

import random
import threading
from collections import Counter

import keras
import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline

from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.models.classifier import RecurrentClassifier
from lstm_core.models.pipeline import make_pipeline
from tests.conftest import TINY, toy_texts


def config(**changes) -> dict:
    return {**ExperimentSpec("d").fixed(), **TINY, **changes}


def test_wrapped_model_and_pipeline_are_classifiers():
    assert is_classifier(RecurrentClassifier())
    pipeline = make_pipeline(config())
    assert is_classifier(pipeline)
    assert isinstance(
        check_cv(3, np.array([0, 1] * 10), classifier=is_classifier(pipeline)), StratifiedKFold
    )


class CountingClassifier(RecurrentClassifier):
    """Records the labels each fit sees (nothing else changes)."""

    seen: list[Counter] = []

    def fit(self, X, y, sample_weight=None, **kwargs):
        CountingClassifier.seen.append(Counter(np.asarray(y).tolist()))
        return super().fit(X, y, sample_weight=sample_weight, **kwargs)


def test_the_classroom_exercise_a_plain_gridsearchcv_over_a_pipeline(tmp_path, monkeypatch):
    """The vectorizer in a Pipeline, GridSearchCV over units: stratified folds, no store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    texts, labels = toy_texts(30)  # sorted by class: unstratified folds would be lopsided
    pipeline = Pipeline(
        [
            ("vec", SequenceVectorizer(max_tokens=100)),
            (
                "clf",
                CountingClassifier(
                    loss="sparse_categorical_crossentropy",
                    model__units=4,
                    model__embedding_dim=4,
                    preprocessing={"max_tokens": 100},
                    epochs=1,
                    batch_size=16,
                    verbose=0,
                ),
            ),
        ]
    )
    CountingClassifier.seen = []
    search = GridSearchCV(pipeline, {"clf__model__units": [2, 4]}, cv=3, scoring="f1_macro")
    search.fit(texts, labels)
    assert len(CountingClassifier.seen) == 2 * 3 + 1  # the refit of the best one too
    for counts in CountingClassifier.seen:
        assert counts["spam"] == counts["ham"], "every fold keeps the 50/50 balance"
    assert set(search.predict(["win cash now", "see you at home"])) <= {"spam", "ham"}
    assert list(tmp_path.iterdir()) == [], "fitting wrote nothing anywhere"


def test_callbacks_hear_every_epoch_without_a_run():
    epochs = []

    class Listen(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs.append((epoch, set(logs)))

    texts, labels = toy_texts(20)
    pipeline = make_pipeline(config(epochs=3))
    pipeline.set_params(clf__fit__callbacks=[Listen()])
    pipeline.fit(texts, labels)
    assert [e for e, _ in epochs] == [0, 1, 2]
    assert {"loss", "val_loss"} <= epochs[0][1]


def test_the_same_seed_fits_the_same_model():
    texts, labels = toy_texts(20)
    first = make_pipeline(config(units=3, epochs=2), seed=5).fit(texts, labels)
    proba = first.predict_proba(texts)
    del first
    keras.backend.clear_session()
    again = make_pipeline(config(units=3, epochs=2), seed=5).fit(texts, labels)
    np.testing.assert_allclose(again.predict_proba(texts), proba, atol=1e-6)


def test_another_thread_drawing_from_pythons_random_leaves_the_model_alone():
    """On a Dask worker the event loop draws from `random` while a fit builds its model."""
    texts, labels = toy_texts(20)
    quiet = make_pipeline(config(units=3, epochs=1), seed=5).fit(texts, labels)
    stop = threading.Event()

    def draw() -> None:
        while not stop.wait(0.001):  # as often as a busy event loop, leaving the GIL free
            random.random()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        noisy = make_pipeline(config(units=3, epochs=1), seed=5).fit(texts, labels)
    finally:
        stop.set()
        thread.join()
    assert noisy.named_steps["clf"].model_ is not quiet.named_steps["clf"].model_
    np.testing.assert_allclose(noisy.predict_proba(texts), quiet.predict_proba(texts), atol=1e-6)


def test_clone_keeps_every_setting():
    pipeline = make_pipeline(config(units=7, patience=2))
    again = clone(pipeline)
    assert again.get_params()["clf__model__units"] == 7
    assert again.get_params()["clf__patience"] == 2


def test_bucketed_and_padded_fits_split_and_step_alike():
    """The validation split and the steps per epoch do not depend on the batching."""
    texts, labels = toy_texts(25)
    seen = {}

    class Steps(keras.callbacks.Callback):
        def __init__(self, buckets):
            super().__init__()
            self.buckets = buckets

        def on_train_begin(self, logs=None):
            seen[self.buckets] = self.params["steps"]

    for buckets in (True, False):
        pipeline = make_pipeline(
            config(epochs=2, batch_size=8, length_buckets=buckets, validation_split=0.2)
        )
        pipeline.set_params(clf__callbacks=[Steps(buckets)], clf__class_weight="balanced")
        pipeline.fit(texts, labels)
        history = pipeline.named_steps["clf"].history_
        assert len(history["val_loss"]) == 2
        assert set(pipeline.predict(texts)) <= {"spam", "ham"}
    assert seen[True] == seen[False] == 5  # 40 of 50 rows in batches of 8


def test_prediction_after_a_fit_traces_one_step(monkeypatch):
    """Fitting runs many steps per graph call; predicting must not unroll them (11 s)."""
    calls = []
    step = keras.Model.predict_step
    monkeypatch.setattr(
        keras.Model, "predict_step", lambda self, data: calls.append(1) or step(self, data)
    )
    texts, labels = toy_texts(40)
    pipeline = make_pipeline(config(units=3))
    pipeline.fit(texts, labels)
    pipeline.predict(texts)
    assert len(calls) == 1


def test_the_embedding_has_a_row_per_kept_word_rounded_up_to_a_power_of_two():
    """Not max_tokens rows; a word seen only after the cut reads as unknown, not out of range."""
    texts, labels = toy_texts(40)
    kept = make_pipeline(config(max_tokens=10_000, sequence_length=3)).fit(texts, labels)
    words = kept.named_steps["vec"].vocabulary_size_
    rows = kept.named_steps["clf"].model_.get_layer(index=1).input_dim
    assert words <= rows < max(2 * words, 17), (words, rows)
    beyond = " ".join(["x"] * 3 + ["a_word_no_fold_has"] * 2)
    assert kept.predict_proba([beyond, *texts[:2]]).shape == (3, 2)


def test_a_word_only_after_the_cut_is_not_in_the_vocabulary():
    vectorizer = SequenceVectorizer(sequence_length=2).fit(["a b late", "a b"])
    assert set(vectorizer.vocabulary_) == {"a", "b"}
    assert vectorizer.transform(["late a"]).tolist() == [[1, 2]]
