"""How many runs train at once, and how long a worker that cannot be seen is trusted.

Read from the environment on every look, so a person's setting applies to the next
dispatch; the queue, the warm worker and the dashboard all read them here.
"""

from __future__ import annotations

import os

from lstm_core.domain import env_settings

MAX_RUNNING_VARIABLE = "LSTM_CORE_MAX_RUNS"
STALE_VARIABLE = "LSTM_CORE_STALE_S"
STALE_AFTER_S = 60.0


def max_running() -> int:
    """Runs trained at once; one by default, since one run already uses both cores here."""
    try:
        return max(1, int(os.environ.get(MAX_RUNNING_VARIABLE, "1")))
    except ValueError:
        return 1


def stale_after_s() -> float:
    """How long a worker that cannot be seen from here (on another machine, or one that never
    started) may stay silent before its run counts as interrupted (`$LSTM_CORE_STALE_S`)."""
    return env_settings.seconds(STALE_VARIABLE, STALE_AFTER_S, least=1.0)
