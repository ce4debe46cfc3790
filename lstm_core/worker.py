"""`python -m lstm_core.worker RUN_ID`: train one claimed run, then start the next queued one.

A fresh interpreter per run: TensorFlow is loaded here and never forked, and the memory
of one run is returned to the system when it ends.
"""

from __future__ import annotations

import logging
import sys

from lstm_core.jobs import dispatch
from lstm_core.training import execute_run
from lstm_core.workspace import Workspace


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lstm_core.worker RUN_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    workspace = Workspace()
    try:
        run = execute_run(workspace, args[0])
        logging.getLogger("lstm_core").info("run %s ended %s", args[0], run.status)
    finally:
        dispatch(workspace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
