"""The body of a spawned fit process: import the training stack once, then fit what it is sent.

Its task queue brings a run's dataset (`TrainingData`, once per run: a process kept warm in
a `lstm_core.execution.fit_pool.FitPool` serves one run after another), then `(TrialTask,
TrialContext)` pairs. Events and outcomes go back on its own pipe. When the process that
started it is gone, it exits within a second instead of training on for nobody, and at once
and quietly when it finds that pipe closed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing.connection import Connection

from lstm_core.execution.fitting import fit_trial
from lstm_core.execution.priority import lower_for_training
from lstm_core.execution.trial import TrainingData, TrialOutcome

PARENT_CHECK_S = 1.0


class SharedFlag:
    """A yes/no shared with fit processes, without a lock.

    A `multiprocessing.Event` takes a lock shared with the fit processes on every
    `is_set()`; a fit process killed while it holds that lock (a stop it did not obey in
    time) leaves it taken for good, and the run's process then waits forever on its next
    look at the event (a Ctrl-C that never ended, once in CI). One byte in shared memory,
    written by the run's process only, cannot be left locked.
    """

    def __init__(self, context):
        self._byte = context.RawValue("b", 0)

    def set(self) -> None:
        self._byte.value = 1

    def clear(self) -> None:
        self._byte.value = 0

    def is_set(self) -> bool:
        return bool(self._byte.value)


class _PipeChannel:
    """`stop`: the run stops (every fit); `prune`: this process's fit's candidate was pruned."""

    def __init__(self, results, stop, prune):
        self.results = results
        self.stop = stop
        self.prune = prune

    def send(self, event) -> None:
        _send(self.results, event)

    def stop_requested(self) -> bool:
        return self.stop.is_set() or self.prune.is_set()


def limit_threads(threads: int) -> None:
    """Size the backend's thread pools so that parallel fit processes share the cores
    (before any op)."""
    if os.environ.get("KERAS_BACKEND") == "jax":  # read when XLA's CPU client starts
        if threads == 1:
            os.environ["XLA_FLAGS"] = " ".join(
                [os.environ.get("XLA_FLAGS", ""), "--xla_cpu_multi_thread_eigen=false"]
            ).strip()
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _send(results: Connection, message: object) -> None:
    try:
        results.send(message)
    except BrokenPipeError:  # the run's process is gone: nobody to train for or to warn
        os._exit(1)


def serve(tasks, results, stop, prune, threads: int, parent_pid: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the run's process decides. It
    # started this process with SIGINT blocked (`fit_pool._ctrl_c_held`); once ignored, a
    # Ctrl-C held back meanwhile is dropped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(
        target=_exit_with_parent, args=(parent_pid,), name="exit-with-parent", daemon=True
    ).start()
    lower_for_training()  # started by the CLI, which keeps its own priority
    limit_threads(threads)
    import lstm_core.execution.callbacks  # noqa: F401  (Keras, scikeras, scikit-learn: before the first task)
    import lstm_core.models.pipeline  # noqa: F401

    channel = _PipeChannel(results, stop, prune)
    data: TrainingData | None = None
    while True:  # until its parent kills it, or is gone
        message = tasks.get()
        if isinstance(message, TrainingData):
            data = message
            continue
        task, context = message
        outcome: TrialOutcome = fit_trial(task, context, data, channel)
        _send(results, outcome)
