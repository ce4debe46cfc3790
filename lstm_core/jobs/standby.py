"""A warm worker: TensorFlow imported and fit processes started, waiting for the next run.

A cold run pays, before its first epoch, a worker process's TensorFlow import, its fit
processes' imports and a traced model: about 20 s here, most of what a person waits for
after Launch. So a worker stays up after its run for `$LSTM_CORE_WARM_S` seconds (300 by
default; 0: every run starts cold) with its fit processes (`lstm_core.execution.fit_pool`), and a
dashboard that opens a workspace with nothing running starts one ahead of the first run.

One warm worker per workspace: it holds `warm-worker.lock` (with its pid) for as long as it
lives. While it trains no run (or is finishing one), a dispatcher leaves one queued run to
it (it claims runs itself, every `POLL_S`) and starts cold workers only for the rest, so
there are never more workers than runs allowed at once (`jobs.limits.max_running`), and a run
queued behind another is taken by the worker that just finished, warm.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lstm_core.domain import env_settings
from lstm_core.domain.entities import Run, RunStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.jobs.limits import max_running
from lstm_core.jobs.spawn import start_detached
from lstm_core.store.workspace import Workspace

if TYPE_CHECKING:
    from lstm_core.execution.fit_pool import FitPool
    from lstm_core.store.run_store import RunStore

WARM_VARIABLE = "LSTM_CORE_WARM_S"
WARM_S = 300.0
LOCK_FILE = "warm-worker.lock"
LOG_FILE = "warm-worker.log"
POLL_S = 0.1
log = logging.getLogger("lstm_core")


def warm_seconds() -> float:
    """How long a worker waits, warm, for the next run (`$LSTM_CORE_WARM_S`; 0: never)."""
    return env_settings.seconds(WARM_VARIABLE, WARM_S)


def _held(path: Path) -> bool:
    """Does another process hold an exclusive lock on `path`?"""
    try:
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a folder that cannot be written has no warm worker either
        return False
    return False


def alive(workspace: Workspace) -> bool:
    return _held(workspace.root / LOCK_FILE)


def _pid(workspace: Workspace) -> int | None:
    """The warm worker's process id; None if there is none."""
    if not alive(workspace):
        return None
    try:
        return int((workspace.root / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):  # it is writing its pid right now
        return None


def waiting(workspace: Workspace) -> bool:
    """A warm worker lives and trains no run now (or is just finishing one): it claims the
    oldest queued run itself."""
    pid = _pid(workspace)
    if pid is None:
        return False
    return not any(r.pid == pid for r in workspace.store.runs_with_status(RunStatus.RUNNING))


def ensure(workspace: Workspace) -> None:
    """Start a warm worker ahead of the first run, unless one lives or a run is going (its
    TensorFlow import would take the cores from that run; its worker stays warm after)."""
    if warm_seconds() <= 0 or workspace.store.read_only or alive(workspace):
        return
    if any(workspace.store.runs_with_status(s) for s in (RunStatus.RUNNING, RunStatus.QUEUED)):
        return
    start_detached(
        workspace, ["-m", "lstm_core.jobs.worker", "--standby"], workspace.root / LOG_FILE
    )


def stop(workspace: Workspace) -> int | None:
    """Ask the warm worker to exit (SIGTERM); returns its pid, None if there is none."""
    pid = _pid(workspace)
    if pid is None:
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return None
    return pid


@contextmanager
def _lock(path: Path) -> Iterator[IO | None]:
    """The exclusive lock on `path` while the block runs; None if another process has it."""
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """This process's log lines go to a run's `worker.log` while it trains that run."""
    root = logging.getLogger()
    before = root.handlers[:]
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = before
        handler.close()


def serve(workspace: Workspace, pool: FitPool, shape: tuple[int, int]) -> str:
    """Wait warm for queued runs and train them, until idle for `warm_seconds()`; returns
    why it stopped. The caller holds the warm worker's lock; `pool` is a `FitPool` kept
    ready with `shape` (fit processes, threads each), then with the last run's shape."""
    from lstm_core.execution.training import execute_run

    me = WorkerIdentity.current()
    store = workspace.store
    limit = warm_seconds()
    pool.prepare(*shape)
    _preload()
    while True:
        pool.prepare(*shape)
        since = time.monotonic()
        while (run := _claim(store)) is None:
            if not workspace.root.is_dir():
                return "the workspace is gone"
            if time.monotonic() - since > limit:
                return f"no run for {limit:.0f} s"
            time.sleep(POLL_S)
        if not store.attach_worker(run.id, me):
            continue
        log.info("warm worker %s takes run %s", os.getpid(), run.id)
        with _logging_to(workspace.worker_log(run.id)):
            log.info("run %s: taken by the warm worker (pid %s)", run.id, os.getpid())
            execute_run(workspace, run.id, pool=pool)
        shape = shape_of(run.spec)


def _claim(store: RunStore) -> Run | None:
    """The oldest queued run, now ours to start; a read first, so that waiting takes no
    write lock ten times a second."""
    if not store.runs_with_status(RunStatus.QUEUED):
        return None
    return store.claim_next(max_running())


def _preload() -> None:
    """Import what a run's own process needs (scikit-learn, pandas, the run loop: about a
    second here) before the run is waiting for them."""
    import lstm_core.data.vectorizer  # noqa: F401
    import lstm_core.execution.run_loop  # noqa: F401
    import lstm_core.execution.run_results  # noqa: F401
    import lstm_core.models.bundle  # noqa: F401
    import lstm_core.models.evaluation  # noqa: F401
    import lstm_core.models.starting  # noqa: F401


def shape_of(spec: ExperimentSpec) -> tuple[int, int]:
    """The fit processes a run of `spec` uses: how many, and threads each."""
    from lstm_core.execution.local_executors import threads_per_fit

    n = spec.effective_n_jobs()
    return n, threads_per_fit(n)


def default_shape() -> tuple[int, int]:
    """The fit processes of the default design (one candidate, its folds in parallel)."""
    return shape_of(ExperimentSpec("any"))


@contextmanager
def slot(workspace: Workspace) -> Iterator[bool]:
    """This process is the workspace's warm worker while the block runs; False if another
    one is (or waiting is switched off)."""
    if warm_seconds() <= 0:
        yield False
        return
    with _lock(workspace.root / LOCK_FILE) as handle:
        if handle is None:
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield True
