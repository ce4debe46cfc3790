"""Who holds the run database's write lock, so a busy workspace can be named, not guessed.

In WAL mode SQLite takes its write lock as a POSIX lock on one byte of the `-shm` file
(offset 120, `WAL_WRITE_LOCK`); Linux lists every such lock, with its process, in
`/proc/locks`. A process that holds it while stopped (SIGSTOP, a debugger, a closed laptop
lid) will never let go by itself: a write then fails at once with a sentence that names it,
instead of waiting out a timeout. Elsewhere than Linux nothing is found and the sentence
says less.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WAL_WRITE_LOCK_BYTE = 120
LOCKS_FILE = Path("/proc/locks")
# What a process is, from its command line: the first fragment found names its role.
_ROLES = (
    ("lstm_core.jobs.worker", "a worker"),
    ("lstm_core.jobs.supervisor", "the supervisor"),
    ("multiprocessing", "a fit process"),
    ("streamlit", "the dashboard"),
    ("lstm-core", "an lstm-core command"),
    ("lstm_core", "an lstm-core command"),
)


@dataclass(frozen=True)
class LockHolder:
    pid: int
    role: str  # "a worker", "the dashboard", ... or the program's name
    stopped: bool  # paused (SIGSTOP, a debugger): it will not let go by itself

    def describe(self) -> str:
        """ "process 1234, a worker, is stopped" / "process 1234, the dashboard, is writing"."""
        if self.pid == os.getpid():
            return f"this process ({self.pid}) holds it in another connection"
        state = "is stopped" if self.stopped else "is writing to it"
        return f"process {self.pid}, {self.role}, {state}"


def write_lock_holder(database: Path) -> LockHolder | None:
    """The process holding `database`'s WAL write lock; None if free or unknown."""
    try:
        inode = os.stat(f"{database}-shm").st_ino
        lines = LOCKS_FILE.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 5860 fe:00:2147639 120 120" (a blocked waiter's
        # line starts "1: ->" and has one field more)
        if len(fields) != 8 or fields[1] != "POSIX" or fields[3] != "WRITE":
            continue
        if int(fields[5].rsplit(":", 1)[1]) != inode or int(fields[6]) != WAL_WRITE_LOCK_BYTE:
            continue
        pid = int(fields[4])
        return LockHolder(pid, _role(pid), _stopped(pid))
    return None


def _role(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "a process that has ended"
    command = " ".join(w.decode("utf-8", "replace") for w in words if w)
    for fragment, role in _ROLES:
        if fragment in command:
            return role
    return Path(command.split(" ", 1)[0]).name or "an unknown program"


def _stopped(pid: int) -> bool:
    """State T (stopped by a signal) or t (stopped by a debugger), from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")
