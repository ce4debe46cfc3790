"""Starting the workspace's background processes: workers, the warm worker, the supervisor.

Each is a fresh `python -m lstm_core.jobs...` process (never forked: TensorFlow is not
fork-safe), in a session of its own so that it outlives the page or command that started
it, with the workspace in its environment and its output appended to a log file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lstm_core.store.workspace import HOME_VARIABLE, Workspace


def child_environment(workspace: Workspace) -> dict[str, str]:
    """This process's environment, pointed at `workspace` and at this copy of the package."""
    package_root = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        HOME_VARIABLE: str(workspace.root),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": python_path,
    }


def start_detached(workspace: Workspace, arguments: list[str], log: Path) -> int:
    """Start `python ARGUMENTS` for `workspace`, its output appended to `log`; its pid."""
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(workspace),
            start_new_session=True,
        )
    return process.pid
