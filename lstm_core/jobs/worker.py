"""`python -m lstm_core.jobs.worker RUN_ID | --standby`: train runs in the background.

With a RUN_ID it trains that claimed run; `--standby` starts with none. Either way it then
stays warm for the next queued runs (`lstm_core.jobs.standby`) if no other worker of its
workspace does, and otherwise starts the next queued run and exits. TensorFlow is loaded
here and in spawned fit processes, never forked.
"""

from __future__ import annotations

import logging
import sys

from lstm_core.execution.priority import lower_for_training
from lstm_core.jobs.dispatch import dispatch
from lstm_core.store.workspace import Workspace

USAGE = "usage: python -m lstm_core.jobs.worker RUN_ID | --standby"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    lower_for_training()  # the dashboard and the CLI come first; fit processes inherit it
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    log = logging.getLogger("lstm_core")
    workspace = Workspace()
    standby = args[0] == "--standby"
    from lstm_core.execution.fit_pool import FitPool
    from lstm_core.jobs import standby as warm

    pool = FitPool()
    try:
        with warm.slot(workspace) as warm_here:
            if standby and not warm_here:
                return 0  # another worker is warm already
            shape = warm.default_shape()
            if not standby:
                from lstm_core.execution.training import execute_run

                run = execute_run(workspace, args[0], pool=pool)
                log.info("run %s ended %s", args[0], run.status)
                shape = warm.shape_of(run.spec)
            if warm_here:
                log.info("warm worker stops: %s", warm.serve(workspace, pool, shape))
    finally:
        pool.close()
        dispatch(workspace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
