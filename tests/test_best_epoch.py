"""Early stopping on the validation macro-F1: the model a fit ends with is its best epoch's,
and the rows that choose that epoch share no text with the rows that train."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.models.best_epoch import BestEpoch
from lstm_core.models.classifier import RecurrentClassifier, repeats_together
from tests.conftest import toy_texts


def noisy_texts(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The toy classes with a fifth of the labels flipped: the validation score wanders
    from epoch to epoch instead of climbing to 1.0 and staying there."""
    texts, labels = toy_texts(60, seed)
    rng = np.random.default_rng(seed)
    flipped = rng.random(len(labels)) < 0.2
    labels = np.where(flipped, np.where(labels == "spam", "ham", "spam"), labels)
    return texts, labels.astype(object)


def fitted(patience: int, epochs: int, length_buckets: bool = True):
    texts, labels = noisy_texts()
    x = SequenceVectorizer(max_tokens=100).fit_transform(texts)
    classifier = RecurrentClassifier(
        loss="sparse_categorical_crossentropy",
        model__units=4,
        model__embedding_dim=4,
        preprocessing={"max_tokens": 100},
        epochs=epochs,
        batch_size=8,
        validation_split=0.25,
        patience=patience,
        length_buckets=length_buckets,
        seed=3,
        verbose=0,
    )
    return classifier.fit(x, labels), x, labels


@pytest.mark.parametrize("length_buckets", [True, False])
def test_the_fitted_model_is_the_epoch_with_the_best_validation_macro_f1(length_buckets):
    classifier, x, labels = fitted(patience=2, epochs=12, length_buckets=length_buckets)
    (watcher,) = [c for c in classifier._fit_callbacks if isinstance(c, BestEpoch)]
    epochs_run = len(classifier.history_["loss"])
    assert epochs_run <= watcher.best_epoch + 1 + 2, "it trained on past its patience"
    # The validation rows are the last quarter of the rows in the order the fit used.
    order = repeats_together(x, np.random.default_rng(3))
    validation = order[classifier._split_at(len(x)) :]
    predicted = classifier.predict(x[validation])
    kept = f1_score(labels[validation].astype(str), predicted.astype(str), average="macro")
    assert kept == pytest.approx(watcher.best, abs=1e-9), "the model is not its best epoch's"
    assert watcher.best_epoch is not None and 0 <= watcher.best_epoch < epochs_run


def test_without_patience_every_epoch_trains():
    classifier, _, _ = fitted(patience=0, epochs=4)
    assert len(classifier.history_["loss"]) == 4
    assert not any(isinstance(c, BestEpoch) for c in classifier._fit_callbacks)


def test_repeated_texts_are_adjacent_so_the_validation_tail_shares_at_most_one_with_training():
    rng = np.random.default_rng(0)
    distinct = rng.integers(2, 50, size=(40, 6))
    x = distinct[rng.integers(0, 40, size=400)]  # every sequence about ten times
    order = repeats_together(x, np.random.default_rng(7))
    assert sorted(order) == list(range(len(x)))
    keys = [tuple(row) for row in x[order]]
    # Each sequence's rows form one run in the order.
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs) == len(set(keys))
    cut = int(len(x) * 0.9)
    assert len(set(keys[:cut]) & set(keys[cut:])) <= 1
    # Seeded: the same generator state gives the same order, another a different one.
    assert (order == repeats_together(x, np.random.default_rng(7))).all()
    assert (order != repeats_together(x, np.random.default_rng(8))).any()
