"""Which process owns a run, and whether it is still there.

On one machine the process id is authoritative: a worker that is paused (SIGSTOP) is alive,
one that was killed is not, whatever its heartbeat says. A pid can be reused after its
process ends, so an owner is the pid together with its start time (Linux: the start tick
in /proc). A run owned from another host can only be judged by its heartbeat.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorkerIdentity:
    pid: int
    host: str
    started: int | None  # start tick of the process (None where it cannot be read)

    @classmethod
    def current(cls) -> WorkerIdentity:
        return cls.current_for(os.getpid())

    @classmethod
    def current_for(cls, pid: int) -> WorkerIdentity:
        """A process on this machine."""
        return cls(pid, this_host(), start_tick(pid))

    @property
    def here(self) -> bool:
        """Owned by a process this one can see, so its pid can be checked."""
        return self.host == this_host()

    def alive(self) -> bool:
        """True while this very process runs (stopped counts as running; a zombie does not)."""
        if not process_alive(self.pid):
            return False
        return self.started is None or start_tick(self.pid) in (None, self.started)


def this_host() -> str:
    """The machine, and the pid namespace on it: two containers with one hostname see
    different processes under the same pid."""
    try:
        return f"{socket.gethostname()}#{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return socket.gethostname()


def start_tick(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19])


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (killed, not yet reaped) counts as gone."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
