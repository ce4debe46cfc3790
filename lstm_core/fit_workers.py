"""Start a run's parallel fit workers early, so their start-up overlaps this process's own.

joblib keeps its loky worker processes between calls with the same settings, so the
workers started here are the ones the search then uses. Each has to import TensorFlow
(about 5 s here) before its first fit; started at the beginning of a run, they do that
while this process imports it too, instead of after.
"""

from __future__ import annotations

import os
import threading

from joblib import Parallel, delayed


def _import_training_stack() -> int:
    import lstm_core.classifier  # noqa: F401  (Keras, scikeras, scikit-learn)

    return os.getpid()


class WorkerStart:
    """Workers starting in the background; `wait()` returns their process ids."""

    def __init__(self, n_jobs: int):
        self.pids: list[int] = []
        self._thread = threading.Thread(
            target=self._start, args=(n_jobs,), name="start-workers", daemon=True
        )
        self._thread.start()

    def _start(self, n_jobs: int) -> None:
        self.pids = Parallel(n_jobs=n_jobs)(
            delayed(_import_training_stack)() for _ in range(n_jobs)
        )

    def wait(self) -> list[int]:
        self._thread.join()
        return self.pids
