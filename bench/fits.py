"""What the benchmarks share: the data they read and the fits they time.

The spam file comes from ../shared/data when present, else the bundled sample. A fit
through the workbench and a hand-written Keras fit of the same model on the same
vectorized data, so a ratio of the two is the workbench's own overhead.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPAM = ROOT.parent / "shared" / "data" / "spam.csv"
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"
UNITS, EMBEDDING, BATCH, MAX_TOKENS = 32, 32, 32, 10_000


def load_texts(path: Path):
    from lstm_core.data.intake import read_path
    from lstm_core.data.validation import select_columns

    df, report = read_path(str(path))
    data = select_columns(df, report.suggested_text, report.suggested_label, cv=2, test_size=0.2)
    return data


def epoch_seconds_callback():
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimes()


def hand_written_epochs(x, y, n_classes: int, epochs: int) -> list[float]:
    """The classroom script: Embedding(mask_zero) -> LSTM -> Dense, compiled and fitted."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(x.shape[1],), dtype="int32"),
            keras.layers.Embedding(MAX_TOKENS, EMBEDDING, mask_zero=True),
            keras.layers.LSTM(UNITS),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = epoch_seconds_callback()
    model.fit(
        x, y, epochs=epochs, batch_size=BATCH, validation_split=0.1, verbose=0, callbacks=[timer]
    )
    return timer.seconds


def workbench_fit(texts, labels, epochs: int, seed: int = 0, held_out=None, **changes):
    """One fit through the run path (`fit_trial` in the in-process executor), its epochs
    recorded by the run's recorder in a real SQLite store.

    `changes` override the defaults (sequence_length, length_buckets, arch, ...). Returns
    the epoch seconds, the fitted model as a loaded bundle, and the class probabilities
    of the `held_out` texts (predicted by the fit itself).
    """
    from lstm_core.domain.entities import Dataset
    from lstm_core.domain.spec import ExperimentSpec
    from lstm_core.execution.local_executors import InProcess
    from lstm_core.execution.run_loop import StoreRecorder
    from lstm_core.execution.trial import TrainingData, TrialTask
    from lstm_core.models.bundle import Bundle, save_bundle
    from lstm_core.store.store_url import open_store, sqlite_url

    config = {
        **ExperimentSpec("bench").fixed(),
        "units": UNITS,
        "embedding_dim": EMBEDDING,
        "batch_size": BATCH,
        "epochs": epochs,
        **changes,
    }
    held_out = [] if held_out is None else list(held_out)
    every_text = np.array(list(texts) + held_out, dtype=object)
    every_label = np.array(list(labels) + [labels[0]] * len(held_out), dtype=object)
    fit_rows = np.arange(len(texts))
    scored = np.arange(len(texts), len(every_text)) if held_out else fit_rows[:1]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(sqlite_url(Path(folder) / "bench.sqlite"))
        store.add_dataset(Dataset("d", "bench", "t", "l", len(texts)))
        run_id = store.create_run(ExperimentSpec("d"), 1)
        recorder = StoreRecorder(store, run_id)
        executor = InProcess(TrainingData(every_text, every_label), recorder)
        executor.submit([TrialTask(run_id, 0, 0, None, config, fit_rows, scored, "f1_macro", seed)])
        outcome = executor.wait()
        recorder.finish(outcome)
        assert outcome.refit is not None, outcome.error
        seconds = [e.seconds for e in store.epochs(run_id)]
        refit = outcome.refit
        save_bundle(
            Path(folder) / "bundle", refit.model_file, refit.vectorizer_json, refit.classes, {}, {}
        )
        bundle = Bundle.load(Path(folder) / "bundle")
    return seconds, bundle, refit.test_proba if held_out else None


def steady(seconds: list[float]) -> float:
    """Median of the epochs after the first (the first one traces the graph)."""
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def matmul_flops(seconds: float = 2.0) -> float:
    """float32 GEMM FLOP/s through NumPy's BLAS: the machine's practical peak."""
    size = 1024
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    b = a.copy()
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start)
