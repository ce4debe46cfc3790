"""Training yields the cores to people: workers and fit processes run at a lower CPU
priority than the dashboard and the CLI.

On a 2-core machine a search keeps every core busy; at the same priority the dashboard
waits its turn behind the fits and typing on Predict lags by seconds. A niceness of 10
gives a runnable dashboard about nine times a fit's share of a core while it works, and
the fits the whole machine while it idles, which it does most of the time
(bench/RESULTS.md, "Fast while busy", measures what training loses by it).
"""

from __future__ import annotations

import os

TRAINING_NICENESS = 10
NICE_VARIABLE = "LSTM_CORE_NICE"  # another niceness for training; 0 keeps the priority


def training_niceness() -> int:
    """The niceness training runs at (`LSTM_CORE_NICE`, default 10, at most 19)."""
    try:
        return max(0, min(19, int(os.environ.get(NICE_VARIABLE, TRAINING_NICENESS))))
    except ValueError:
        return TRAINING_NICENESS


def lower_for_training() -> None:
    """Lower this process to training's niceness (never raise it: only root may); the
    processes it starts inherit it."""
    wanted = training_niceness()
    now = os.nice(0)
    if now < wanted:
        os.nice(wanted - now)
