"""The Keras callbacks a run injects into each fit: report epochs, stop when asked.

Small, as Keras' own are: settings in `__init__`, state reset in `on_train_begin`. Logging
must never crash training, so a channel that fails to send only produces a warning.
"""

from __future__ import annotations

import time
import warnings

import keras
import numpy as np

from lstm_core.domain.entities import Epoch
from lstm_core.execution.trial import EpochEnded, FitProgress, TrialChannel

PROGRESS_EVERY_S = 1.0
STOP_CHECK_EVERY_S = 0.25


class EpochReporter(keras.callbacks.Callback):
    """Send each epoch's metrics, and about once a second how far into the fit it is."""

    def __init__(self, trial_id: int, channel: TrialChannel, epochs: int):
        super().__init__()
        self.trial_id = trial_id
        self.channel = channel
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self._epoch = 0
        self._epoch_start = time.perf_counter()
        self._last_sent = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self._last_sent < PROGRESS_EVERY_S:
            return
        self._last_sent = time.monotonic()
        steps = self.params.get("steps") or 1
        fraction = (self._epoch + min(1.0, (batch + 1) / steps)) / self.epochs
        self._send(FitProgress(self.trial_id, fraction))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self._epoch_start
        metrics = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
        names = ("loss", "accuracy", "val_loss", "val_accuracy")
        record = Epoch(
            self.trial_id,
            epoch,
            **{n: metrics.get(n) for n in names},
            seconds=seconds,
            logged_at=time.time(),
        )
        self._send(EpochEnded(record))
        self._send(FitProgress(self.trial_id, (epoch + 1) / self.epochs))

    def _send(self, event) -> None:
        try:
            self.channel.send(event)
        except Exception as exc:  # a lost record must not stop the fit
            warnings.warn(f"could not report training progress: {exc}", stacklevel=2)


class StopWhenAsked(keras.callbacks.Callback):
    """Stop the fit within a fraction of a second of the channel saying so.

    `stopped` is set only when the fit was cut short: a request that arrives as the last
    epoch ends leaves a finished fit. It stays set for the fit's later phases (a fine-tune
    phase does not start after a stop).
    """

    def __init__(self, channel: TrialChannel, epochs: int):
        super().__init__()
        self.channel = channel
        self.epochs = epochs
        self.stopped = False

    def on_train_begin(self, logs=None):
        self._last_check = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self._last_check >= STOP_CHECK_EVERY_S:
            self._check()

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 < self.epochs:
            self._check()

    def _check(self) -> None:
        self._last_check = time.monotonic()
        if self.channel.stop_requested():
            self.stopped = True
            self.model.stop_training = True
