"""Early stopping on the validation macro-F1, with the best epoch's weights kept.

On short noisy texts the validation loss keeps falling for an epoch or two after the
held-out macro-F1 has peaked (the model grows surer of the majority class), so stopping on
the loss keeps a model that is worse on the rarer classes; and a fixed epoch count is a
guess that is too short on one data set and too long on the next (bench/RESULTS.md,
"Quality on short noisy text"). Without a validation split the training loss decides.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.metrics import f1_score

SCORE_BATCH = 512  # rows per forward pass when scoring the validation split


class BestEpoch(keras.callbacks.Callback):
    """Stop after `patience` epochs without a better validation macro-F1; keep the best.

    `watch(x, y)` hands it the validation rows before the fit starts. They are scored by
    calling the model directly, not through `predict`: during a fit the model runs several
    steps per graph call, and a prediction function traced then would unroll them.
    `best_epoch` is the (0-based) epoch whose weights the model ends with.
    """

    def __init__(self, patience: int):
        super().__init__()
        self.patience = int(patience)
        self.x: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def watch(self, x: np.ndarray | None, y: np.ndarray | None) -> None:
        self.x, self.y = (None, None) if x is None or not len(x) else (x, np.asarray(y))

    def on_train_begin(self, logs=None):
        self.best = -np.inf
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0

    def score(self, logs: dict) -> float:
        """The validation macro-F1, or minus the training loss without validation rows."""
        if self.x is None:
            return -float(logs.get("loss", np.inf))
        predicted = np.concatenate(
            [
                np.asarray(self.model(self.x[i : i + SCORE_BATCH], training=False)).argmax(1)
                for i in range(0, len(self.x), SCORE_BATCH)
            ]
        )
        return float(f1_score(self.y, predicted, average="macro"))

    def on_epoch_end(self, epoch, logs=None):
        score = self.score(logs or {})
        if score > self.best:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
