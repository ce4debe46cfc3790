"""Spawned fit processes that can outlive one run, so the next run finds them warm.

A fit process costs a TensorFlow import (5-6 s here) and, for each new architecture, a
traced model. A worker that stays up between runs (`lstm_core.jobs.standby`) keeps its fit
processes in a `FitPool`: a run takes the processes it needs, sends them its dataset, and
gives back the ones that ended idle and alive; their kept models (`lstm_core.models.model_pool`)
stay with them, so running the same design again starts without tracing.

A process's thread count is fixed when TensorFlow starts in it, so a run asking for a
different number of parallel fits replaces the processes whose count does not fit.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import os
import signal
import sys
import threading
import types
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from lstm_core.execution.fit_process import SharedFlag
from lstm_core.execution.trial import TrialContext
from lstm_core.models import model_pool
from lstm_core.models.backend import for_fit_processes


@dataclass
class FitProcess:
    process: multiprocessing.process.BaseProcess
    threads: int
    tasks: multiprocessing.queues.Queue  # a queue: sending never waits for the process
    results: Connection
    prune: SharedFlag  # set: stop the fit, its candidate is pruned
    busy: TrialContext | None = None
    keys: deque = field(default_factory=lambda: deque(maxlen=model_pool.KEEP))

    @property
    def usable(self) -> bool:
        return self.process.is_alive() and not self.results.closed

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.tasks.cancel_join_thread()
        self.tasks.close()
        self.results.close()


class FitPool:
    """Fit processes of one parent, idle between runs. `stop` is shared by all of them:
    set, every fit stops; cleared when a run takes processes."""

    def __init__(self):
        self._context = multiprocessing.get_context("spawn")  # never fork TensorFlow
        self.stop = SharedFlag(self._context)
        self._idle: list[FitProcess] = []

    def _start(self, threads: int) -> FitProcess:
        from lstm_core.execution import fit_process

        tasks = self._context.Queue()
        prune = SharedFlag(self._context)
        receiving, sending = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=fit_process.serve,
            args=(tasks, sending, self.stop, prune, threads, os.getpid()),
            daemon=True,
        )
        with _main_module_hidden(), for_fit_processes(), _ctrl_c_held():
            process.start()
        sending.close()
        return FitProcess(process, threads, tasks, receiving, prune)

    def prepare(self, n: int, threads: int) -> None:
        """Have `n` idle processes of `threads` threads each starting up (TensorFlow loads
        while the caller waits for work)."""
        self._replace_unfit(threads)
        while len(self._idle) < n:
            self._idle.append(self._start(threads))

    def take(self, n: int, threads: int) -> list[FitProcess]:
        """`n` processes for a run: idle ones first (those with kept models), then new."""
        self.stop.clear()
        self._replace_unfit(threads)
        taken, self._idle = self._idle[:n], self._idle[n:]
        taken += [self._start(threads) for _ in range(n - len(taken))]
        for process in taken:
            process.prune.clear()
        return taken

    def give_back(self, processes: list[FitProcess]) -> None:
        """A run's processes once it ends: idle and alive ones wait for the next run."""
        for process in processes:
            if process.busy is None and process.usable:
                self._idle.append(process)
            else:
                process.kill()

    def _replace_unfit(self, threads: int) -> None:
        for process in [p for p in self._idle if p.threads != threads or not p.usable]:
            self._idle.remove(process)
            process.kill()

    @property
    def idle(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        for process in self._idle:
            process.kill()
        self._idle.clear()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned process without it importing this process's `__main__` again.

    `multiprocessing` re-runs the parent's main script in every spawned child so that
    functions defined there can be unpickled; a script without an
    `if __name__ == "__main__":` guard (a classroom script calling `train`, or
    `python -m lstm_core`) would then start training again in each fit process. A fit
    process needs nothing from `__main__`.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Start a fit process with Ctrl-C held back, in it and here.

    Ctrl-C reaches the whole process group: a fit process that got it before
    `fit_process.serve` ignores it printed a KeyboardInterrupt traceback, and one whose
    parent it interrupted between starting it and sending it its work printed an EOFError.
    A signal mask survives fork and exec, so the child starts with SIGINT blocked; here a
    Ctrl-C meanwhile (any thread may take it) is kept and raised once the child has started.
    """
    previous = signal.getsignal(signal.SIGINT)
    hold = callable(previous) and threading.current_thread() is threading.main_thread()
    held: list[int] = []
    if hold:
        signal.signal(signal.SIGINT, lambda number, _frame: held.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if hold:
            signal.signal(signal.SIGINT, previous)
            if held:
                previous(signal.SIGINT, None)
