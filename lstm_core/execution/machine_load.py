"""How busy the machine is besides the process asking: runnable processes, read from the
kernel without writing anything or leaving a thread behind.

A time estimate needs it twice: when a run starts (kept in its result) and when the next
run is designed (a machine busier now than then makes the next run slower). One reading of
/proc/loadavg's runnable count says little (a test starting, a page drawing), so a few are
taken over a tenth of a second and averaged; the page reruns often, so a process keeps its
reading for a few seconds.
"""

from __future__ import annotations

import statistics
import time

SAMPLES, SAMPLE_GAP_S = 6, 0.02
KEPT_S = 10.0  # a reading this recent is reused

_kept: tuple[float, float] | None = None  # (monotonic time, runnable others)


def _runnable() -> int | None:
    """Runnable tasks now, this one included (the 4th field of /proc/loadavg: 'R/T'); None
    where the system does not say."""
    try:
        with open("/proc/loadavg") as handle:
            return int(handle.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def runnable_others() -> float:
    """Runnable processes besides this one, averaged over `SAMPLES` readings; 0 where the
    system does not say (the estimate then assumes a quiet machine)."""
    global _kept
    now = time.monotonic()
    if _kept is not None and now - _kept[0] < KEPT_S:
        return _kept[1]
    readings = []
    for index in range(SAMPLES):
        if index:
            time.sleep(SAMPLE_GAP_S)
        count = _runnable()
        if count is None:
            return 0.0
        readings.append(count - 1)
    others = max(0.0, statistics.fmean(readings))
    _kept = (time.monotonic(), others)
    return others
