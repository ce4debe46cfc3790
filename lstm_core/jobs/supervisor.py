"""`python -m lstm_core.jobs.supervisor`: keeps one workspace's queue moving with nobody watching.

Every second it marks runs whose worker died as interrupted and starts queued runs while
there is room, so a queued run starts within seconds of its predecessor's end or death
even when no page is open and no command runs. One per workspace: it holds an exclusive
lock on `supervisor.lock` for as long as it lives, and a second one exits at once. It
exits by itself once nothing has been queued or running for a while, and a submit or a
reader starts it again (`ensure`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time

from lstm_core.domain import env_settings
from lstm_core.jobs.dispatch import dispatch
from lstm_core.jobs.spawn import start_detached
from lstm_core.store.store_errors import ReadOnlyWorkspace, StoreDamaged, WorkspaceBusy
from lstm_core.store.workspace import Workspace

LOCK_FILE = "supervisor.lock"
LOG_FILE = "supervisor.log"
POLL_S = 1.0
IDLE_EXIT_VARIABLE = "LSTM_CORE_SUPERVISOR_IDLE_S"
IDLE_EXIT_S = 30.0
FAILURES_BEFORE_EXIT = 30
log = logging.getLogger("lstm_core")


def idle_exit_s() -> float:
    """How long it stays with nothing queued or running (`$LSTM_CORE_SUPERVISOR_IDLE_S`)."""
    return env_settings.seconds(IDLE_EXIT_VARIABLE, IDLE_EXIT_S, least=1.0)


def running(workspace: Workspace) -> bool:
    """True while a supervisor holds the workspace's lock."""
    try:
        with open(workspace.root / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    return False


def ensure(workspace: Workspace) -> None:
    """Start the workspace's supervisor unless one runs (it holds a lock on a file)."""
    if workspace.store.read_only or running(workspace):
        return
    start_detached(workspace, ["-m", "lstm_core.jobs.supervisor"], workspace.root / LOG_FILE)


def _anything_active(workspace: Workspace) -> bool:
    return any(r.status.active for r in workspace.store.list_runs(limit=200))


def _report_a_stopped_writer(workspace: Workspace, said: str | None) -> str | None:
    """Log, once, a process that holds the write lock while stopped (no write of anyone's
    can land until it goes on); returns what is now said."""
    sentence = workspace.store_place.stopped_writer()
    if sentence is not None and sentence != said:
        log.warning("supervisor: %s", sentence)
    return sentence


def supervise(workspace: Workspace, idle_exit: float) -> str:
    """Look every second until idle for `idle_exit` s; returns why it stopped."""
    idle_since, failures, said = None, 0, None
    while workspace.root.is_dir():
        said = _report_a_stopped_writer(workspace, said)
        try:
            for run_id in dispatch(workspace):
                log.info("started a worker for run %s", run_id)
            active = _anything_active(workspace)
            failures = 0
        except (StoreDamaged, ReadOnlyWorkspace) as exc:  # nothing this process can mend
            return f"stops: {exc}"
        except WorkspaceBusy:  # said once above when its holder is stopped; wait for it
            active = True
        except Exception as exc:  # a full disk, a lost race: look again soon
            failures += 1
            log.warning("supervisor: %s", exc)
            if failures >= FAILURES_BEFORE_EXIT:
                return f"stops after {failures} failed looks"
            active = True
        if active:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > idle_exit:
            return f"nothing queued or running for {idle_exit:.0f} s"
        time.sleep(POLL_S)
    return "the workspace is gone"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    workspace = Workspace()
    while True:
        with open(workspace.root / LOCK_FILE, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another supervisor watches this workspace
            log.info("supervisor %s watching %s", os.getpid(), workspace.root)
            why = supervise(workspace, idle_exit_s())
        log.info("supervisor %s: %s", os.getpid(), why)
        # A submit may have looked for a supervisor while this one was leaving: look again.
        try:
            if not (workspace.root.is_dir() and _anything_active(workspace)):
                return 0
        except Exception:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
