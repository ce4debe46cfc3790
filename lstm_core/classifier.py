"""The scikeras wrapper, made a real scikit-learn classifier that reports every fit.

What scikeras 0.13 does not do for us lives here, and only here:
- with scikit-learn >= 1.6 it is not recognised as a classifier (`is_classifier` is False),
  so searches would silently use unstratified folds; `__sklearn_tags__` fixes that;
- each fit (one candidate on one fold) must record its epochs in the run store, wherever
  it runs: a `TrialReporter` is a small picklable handle (database path, run id, the test
  fold of each training row) and opens its own connection in whichever process fits;
- Keras gets length-bucketed batches (`lstm_core.batching`), several training steps per
  graph call, and an already traced model of the same architecture when one is kept
  (`lstm_core.model_pool`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
import warnings

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.utils import ClassifierTags

from lstm_core import model_pool
from lstm_core.batching import bucketed_dataset
from lstm_core.errors import RunCancelled
from lstm_core.model_zoo import build_model
from lstm_core.store import CANCELLED, COMPLETED, FAILED, REFIT_FOLD, RunStore

PROGRESS_EVERY_S = 1.0
# Training steps per call into the traced graph: each call costs about 1.5 ms of Python and
# callback overhead, as much as a 32-text LSTM batch itself (bench/RESULTS.md). Fitting
# only: Keras unrolls prediction steps into one graph, which took 11 s to trace.
STEPS_PER_EXECUTION = 32
log = logging.getLogger("lstm_core")


def limit_threads(threads: int) -> None:
    """Size TensorFlow's pools for this process, so parallel fits share the cores.

    Only possible before the process runs its first TensorFlow op; later calls keep what
    the first one set.
    """
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:
        log.debug("TensorFlow already started in this process; thread pools unchanged")


class TrialReporter:
    """Where a fit reports to. `test_fold[i]` is the CV fold whose test split holds row i."""

    def __init__(self, db_path: str, run_id: str, test_fold: np.ndarray):
        self.db_path = str(db_path)
        self.run_id = run_id
        self.test_fold = np.asarray(test_fold, dtype=np.int16)
        self._store = None

    def __getstate__(self):
        return {**self.__dict__, "_store": None}

    @property
    def store(self) -> RunStore:
        if self._store is None:
            self._store = RunStore(self.db_path)
        return self._store

    def fold_of(self, row_ids: np.ndarray | None) -> int:
        """The fold whose test rows this fit did not see; the refit sees them all."""
        if row_ids is None:
            return REFIT_FOLD
        folds = set(range(int(self.test_fold.max()) + 1))
        missing = sorted(folds - set(np.unique(self.test_fold[row_ids]).tolist()))
        return missing[0] if missing else REFIT_FOLD


class EpochRecorder(keras.callbacks.Callback):
    """Write each epoch's metrics, the batch progress, and honour a cancel request.

    Logging never stops training: a locked or broken database only produces a warning.
    """

    def __init__(self, reporter: TrialReporter, trial_id: int, epochs: int):
        super().__init__()
        self.reporter = reporter
        self.trial_id = trial_id
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self.cancelled = False
        self._epoch_start = time.perf_counter()
        self._last_check = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self._last_check < PROGRESS_EVERY_S:
            return
        self._last_check = time.monotonic()
        steps = self.params.get("steps") or 1
        fraction = (self._epoch + min(1.0, (batch + 1) / steps)) / self.epochs
        self._safely(self.reporter.store.set_batch_progress, self.trial_id, fraction)
        self._check_cancel()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self._epoch_start
        metrics = {k: float(v) for k, v in logs.items() if np.isscalar(v) or np.ndim(v) == 0}
        self._safely(self.reporter.store.log_epoch, self.trial_id, epoch, metrics, seconds)
        shown = " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        log.info(
            "trial %d epoch %d/%d (%.1f s): %s",
            self.trial_id,
            epoch + 1,
            self.epochs,
            seconds,
            shown,
        )
        self._safely(
            self.reporter.store.set_batch_progress, self.trial_id, (epoch + 1) / self.epochs
        )
        self._check_cancel()

    def _check_cancel(self):
        if self._safely(self.reporter.store.cancel_requested, self.reporter.run_id):
            self.cancelled = True
            self.model.stop_training = True

    @staticmethod
    def _safely(method, *args):
        try:
            return method(*args)
        except sqlite3.Error as exc:
            warnings.warn(f"could not write training progress: {exc}", stacklevel=2)
            return None


class RecurrentClassifier(KerasClassifier):
    """KerasClassifier over `model_zoo.build_model`, with early stopping and trial reports.

    `preprocessing` holds the vectorizer settings its input went through (the embedding
    needs `max_tokens`, and a trial's record needs them all); the search sets it in step
    with the vectorizer.
    """

    def __init__(
        self,
        *,
        preprocessing=None,
        length_buckets=True,
        patience=0,
        seed=0,
        threads=None,
        reporter=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.preprocessing = preprocessing
        self.length_buckets = length_buckets
        self.patience = patience
        self.seed = seed
        self.threads = threads
        self.reporter = reporter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def _keras_build_fn(self, meta, **hyper):
        for routed_extra in ("compile_kwargs", "params"):
            hyper.pop(routed_extra, None)
        settings = dict(
            n_classes=meta["n_classes_"],
            sequence_length=None if self.length_buckets else meta["n_features_in_"],
            max_tokens=int((self.preprocessing or {}).get("max_tokens", 10_000)),
            **hyper,
        )
        key = (int(self.seed), tuple(sorted(settings.items())))
        model = model_pool.checkout(self, key, lambda: build_model(**settings))
        # Leave the random state as a new build does, kept model or not (Keras' shuffling
        # of padded batches draws from it).
        keras.utils.set_random_seed(int(self.seed))
        return model

    def trial_params(self) -> dict:
        """The full configuration of this fit, under the names people use."""
        params = {
            k[len("model__") :]: v for k, v in self.get_params().items() if k.startswith("model__")
        }
        params.update(
            epochs=self.epochs,
            batch_size=self.batch_size,
            class_weight=self.class_weight,
            length_buckets=self.length_buckets,
            patience=self.patience,
            validation_split=self.validation_split,
        )
        params.update(self.preprocessing or {})
        return params

    def _initialize_callbacks(self) -> None:
        super()._initialize_callbacks()
        extra = []
        if self.patience:
            monitor = "val_loss" if self.validation_split else "loss"
            extra.append(
                keras.callbacks.EarlyStopping(
                    monitor=monitor, patience=self.patience, restore_best_weights=True
                )
            )
        if getattr(self, "_recorder", None) is not None:
            extra.append(self._recorder)
        self._fit_callbacks = self._fit_callbacks + extra

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """Fit several steps per graph call (prediction stays one batch per call)."""
        self.model_.steps_per_execution = STEPS_PER_EXECUTION
        try:
            if not self.length_buckets:
                return super()._fit_keras_model(
                    X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
                )
            return self._fit_bucketed(
                X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
            )
        finally:
            self.model_.steps_per_execution = 1

    def _fit_bucketed(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        """Hand Keras length-bucketed batches and the validation split.

        The split is the last `validation_split` of the (already shuffled) rows, as Keras
        takes it from arrays; sample weights (class weights included) travel with each batch.
        """
        batch_size = int(self.batch_size or 32)
        split_at = int(np.floor(len(X) * (1.0 - float(self.validation_split or 0.0))))
        if not 0 < split_at < len(X):
            split_at = len(X)

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

    def fit(self, X, y, sample_weight=None, row_ids=None, **kwargs):
        """Fit on shuffled rows (Keras takes its validation split from the end)."""
        if self.threads:
            limit_threads(int(self.threads))
        keras.backend.clear_session()
        keras.utils.set_random_seed(int(self.seed))
        order = np.random.default_rng(int(self.seed)).permutation(len(X))
        X, y = np.asarray(X)[order], np.asarray(y)[order]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)[order]
        self._recorder = None
        reporter = self.reporter
        if reporter is not None:
            if reporter.store.cancel_requested(reporter.run_id):
                raise RunCancelled(reporter.run_id)
            trial_id = reporter.store.start_trial(
                reporter.run_id,
                self.trial_params(),
                reporter.fold_of(row_ids),
                len(X),
                int(self.epochs),
            )
            self._recorder = EpochRecorder(reporter, trial_id, int(self.epochs))
        status = FAILED
        try:
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
            status = (
                CANCELLED if self._recorder is not None and self._recorder.cancelled else COMPLETED
            )
        finally:
            if self._recorder is not None:
                EpochRecorder._safely(reporter.store.finish_trial, self._recorder.trial_id, status)
                self._recorder = None
        if status == CANCELLED:
            raise RunCancelled(reporter.run_id)
        return self
