"""`python -m lstm_core.supervisor`: keeps one workspace's queue moving with nobody watching.

Every second it marks runs whose worker died as interrupted and starts queued runs while
there is room, so a queued run starts within seconds of its predecessor's end or death
even when no page is open and no command runs. One per workspace: it holds an exclusive
lock on `supervisor.lock` for as long as it lives, and a second one exits at once. It
exits by itself once nothing has been queued or running for a while, and a submit or a
reader starts it again (`jobs.ensure_supervisor`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import sys
import time

from lstm_core.errors import UserError
from lstm_core.workspace import Workspace

LOCK_FILE = "supervisor.lock"
LOG_FILE = "supervisor.log"
POLL_S = 1.0
IDLE_EXIT_S = 30.0
FAILURES_BEFORE_EXIT = 30
log = logging.getLogger("lstm_core")


def running(workspace: Workspace) -> bool:
    """True while a supervisor holds the workspace's lock."""
    try:
        with open(workspace.root / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    return False


def supervise(workspace: Workspace, idle_exit_s: float = IDLE_EXIT_S) -> None:
    from lstm_core import jobs

    idle_since, failures = None, 0
    while workspace.root.is_dir():
        try:
            started = jobs.dispatch(workspace)
            active = any(r.status.active for r in workspace.store.list_runs(limit=200))
            failures = 0
        except UserError as exc:  # damaged or read-only: nothing this process can do
            log.warning("supervisor stops: %s", exc)
            return
        except sqlite3.Error as exc:  # busy or briefly unreadable: look again shortly
            failures += 1
            if failures >= FAILURES_BEFORE_EXIT:
                log.warning("supervisor stops after %d failed looks: %s", failures, exc)
                return
            started, active = [], True
        for run_id in started:
            log.info("started a worker for run %s", run_id)
        if active:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > idle_exit_s:
            return
        time.sleep(POLL_S)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    workspace = Workspace()
    with open(workspace.root / LOCK_FILE, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another supervisor watches this workspace
        log.info("supervisor %s watching %s", os.getpid(), workspace.root)
        supervise(workspace)
        log.info("supervisor: nothing queued or running for %.0f s; exiting", IDLE_EXIT_S)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
