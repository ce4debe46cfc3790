"""The scikeras wrapper, made a real scikit-learn classifier that only fits.

It knows nothing of runs, stores or processes: whoever fits it passes Keras callbacks
(`callbacks=` / `fit__callbacks=`) to hear about epochs or to stop it. What scikeras 0.13
does not do for us lives here, and only here:
- with scikit-learn >= 1.6 it is not recognised as a classifier (`is_classifier` is False),
  so searches would silently use unstratified folds; `__sklearn_tags__` fixes that;
- Keras gets length-bucketed batches (`lstm_core.models.batching`), several training steps per
  graph call, and an already traced model of the same architecture when one is kept
  (`lstm_core.models.model_pool`).
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.utils import ClassifierTags

from lstm_core.models import model_pool
from lstm_core.models.batching import bucketed_dataset
from lstm_core.models.best_epoch import BestEpoch
from lstm_core.models.keras_seeds import private_seeds
from lstm_core.models.model_zoo import (
    build_model,
    embedding_rows,
    parameter_counts,
    start_from,
    unfreeze,
)

# Training steps per call into the traced graph: each call costs about 1.5 ms of Python and
# callback overhead, as much as a 32-text LSTM batch itself (bench/RESULTS.md). Fitting
# only: Keras unrolls prediction steps into one graph, which took 11 s to trace.
STEPS_PER_EXECUTION = 32


class _ExpectedRetracing(logging.Filter):
    """TensorFlow warns when a process traces many training steps in a row. Here that is by
    design: each model not taken from the pool (every fine-tuned one: it compiles twice)
    traces its own, so the warning would only alarm the person reading the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_ExpectedRetracing())


class RecurrentClassifier(KerasClassifier):
    """KerasClassifier over `model_zoo.build_model`, with early stopping.

    `preprocessing` holds the vectorizer settings its input went through (the embedding
    needs `max_tokens`); whoever builds the pipeline sets it in step with the vectorizer.
    `seed` makes a fit repeatable: the same seed, data and settings give the same model.
    `start` (`model_zoo.InitialWeights`) gives starting weights, frozen layers and a
    fine-tune phase; without it the model starts random.
    """

    def __init__(
        self,
        *,
        preprocessing=None,
        length_buckets=True,
        patience=0,
        seed=0,
        start=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.preprocessing = preprocessing
        self.length_buckets = length_buckets
        self.patience = patience
        self.seed = seed
        self.start = start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def _keras_build_fn(self, meta, **hyper):
        for routed_extra in ("compile_kwargs", "params"):
            hyper.pop(routed_extra, None)
        max_tokens = int((self.preprocessing or {}).get("max_tokens", 10_000))
        start = self.start
        rows = getattr(self, "vocabulary_size_", None)
        if start is not None and start.embedding is not None:
            rows = len(start.embedding)  # a saved model's embedding keeps its size
        settings = dict(
            n_classes=meta["n_classes_"],
            sequence_length=None if self.length_buckets else meta["n_features_in_"],
            max_tokens=max_tokens,
            # Rounded here, so the model pool's key is the same for folds that kept a few
            # words more or less (build_model's own rounding leaves it as it is).
            vocabulary_size=embedding_rows(rows, max_tokens),
            frozen=start.frozen if start is not None else frozenset(),
            **hyper,
        )
        key = (int(self.seed), tuple(sorted(settings.items())))
        if start is not None and start.fine_tune_epochs:
            # Fine-tuning compiles the model again: such a model is never kept for reuse.
            model = build_model(**settings)
        else:
            model = model_pool.checkout(self, key, lambda: build_model(**settings))
        if start is not None:
            start_from(model, start)
        self.parameters_ = parameter_counts(model)
        # Leave the random state as a new build does, kept model or not (Keras' shuffling
        # of padded batches draws from it).
        keras.utils.set_random_seed(int(self.seed))
        return model

    def _initialize_callbacks(self) -> None:
        super()._initialize_callbacks()
        if self.patience:
            self._fit_callbacks = [*self._fit_callbacks, BestEpoch(self.patience)]

    def _split_at(self, n: int) -> int:
        """Rows before this index train; the last `validation_split` of them validate."""
        split_at = int(np.floor(n * (1.0 - float(self.validation_split or 0.0))))
        return split_at if 0 < split_at < n else n

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """Fit several steps per graph call (prediction stays one batch per call); then,
        when `start` asks for it, fine-tune everything at a lower learning rate."""
        fit = self._fit_bucketed if self.length_buckets else self._fit_padded
        split_at = self._split_at(len(X))
        for callback in self._fit_callbacks:
            if isinstance(callback, BestEpoch):
                callback.watch(X[split_at:], y[split_at:])
        self.model_.steps_per_execution = STEPS_PER_EXECUTION
        try:
            fit(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
            more = self.start.fine_tune_epochs if self.start is not None else 0
            # A callback that stopped the fit (`callbacks.StopWhenAsked`) says so in `stopped`.
            cut_short = any(getattr(c, "stopped", False) for c in self._fit_callbacks)
            if more and not cut_short:
                unfreeze(self.model_)
                self.model_.steps_per_execution = STEPS_PER_EXECUTION
                fit(X, y, sample_weight, True, more, initial_epoch + epochs, **kwargs)
            return self
        finally:
            self.model_.steps_per_execution = 1

    def _fit_bucketed(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """Hand Keras length-bucketed batches and the validation split.

        The split is the last `validation_split` of the (already shuffled) rows, as Keras
        takes it from arrays; sample weights (class weights included) travel with each batch.
        """
        batch_size = int(self.batch_size or 32)
        split_at = self._split_at(len(X))

        def rows(part: slice):
            return (X[part], y[part], None if sample_weight is None else sample_weight[part])

        train = bucketed_dataset(
            *rows(slice(0, split_at)), batch_size=batch_size, seed=int(self.seed)
        )
        validation = None
        if split_at < len(X):
            validation = bucketed_dataset(
                *rows(slice(split_at, None)), batch_size=batch_size, seed=None
            )
        kwargs.update(
            batch_size=None, validation_split=0.0, validation_data=validation, shuffle=False
        )
        return super()._fit_keras_model(
            train, None, None, warm_start, epochs, initial_epoch, **kwargs
        )

    def _fit_padded(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """Batches padded to the sequence length, validated on the rows `_split_at` keeps
        aside (the rows `BestEpoch` scores, as in the bucketed path)."""
        split_at = self._split_at(len(X))
        weights = None if sample_weight is None else sample_weight[split_at:]
        if split_at < len(X):
            kwargs.update(validation_data=(X[split_at:], y[split_at:], weights))
        kwargs.update(validation_split=0.0)
        return super()._fit_keras_model(
            X[:split_at],
            y[:split_at],
            None if sample_weight is None else sample_weight[:split_at],
            warm_start,
            epochs,
            initial_epoch,
            **kwargs,
        )

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Fit on shuffled rows, the validation split taken from the end (`_split_at`)."""
        keras.utils.set_random_seed(int(self.seed))
        # Every id the vectorizer gives appears in its training rows (it counts only the
        # tokens it keeps in a sequence), so the largest id bounds the vocabulary.
        self.vocabulary_size_ = int(np.max(X)) + 1 if np.size(X) else 2
        X = np.asarray(X)
        order = repeats_together(X, np.random.default_rng(int(self.seed)))
        X, y = X[order], np.asarray(y)[order]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[order]
        with private_seeds(int(self.seed)):
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)


def repeats_together(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the rows in which rows of the same sequence (a text repeated, a
    retweet) follow one another, so the validation split at the end shares at most one such
    text with the rows that train (else the best epoch is chosen partly on memory)."""
    if not len(X):
        return np.arange(0)
    _, group = np.unique(X.reshape(len(X), -1), axis=0, return_inverse=True)
    rank = rng.permutation(int(group.max()) + 1)
    return np.lexsort((rng.permutation(len(X)), rank[group.ravel()]))
