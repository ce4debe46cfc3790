"""How long a run will take, said before it starts (no TensorFlow needed).

A built-in cost model (`lstm_core.insight.cost_model`) says how each part of a run moves with its
design. Real machines were 3.5-5x slower than that model under load, so each part's ratio
to the model is learned from this workspace's recent finished runs (their trials' and epochs'
seconds), and a machine busier now than when those runs started is counted: a run keeps in
its result the runnable processes beside it when it started (`lstm_core.execution.machine_load`),
and a run's share of the cores follows from them. Nothing here writes.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable

from lstm_core.domain.entities import Estimate, Run, RunResult, RunStatus
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import ARCHITECTURE_NAMES
from lstm_core.domain.spec import ExperimentSpec, usable_cores
from lstm_core.execution.machine_load import runnable_others
from lstm_core.insight.cost_model import predicted_seconds
from lstm_core.insight.run_timings import RunTiming, calibrate, design_kinds, run_timing
from lstm_core.store.workspace import Workspace

HISTORY_RUNS = 12  # the newest completed runs an estimate learns from
LOOKED_AT_RUNS = 40  # runs read to find them
LOAD_DIFFERENT = 0.5  # runnable processes more or fewer than then that the basis mentions
GUESS_LOW, GUESS_HIGH = 0.5, 3.0  # the range of the uncalibrated guess
RUNS_SPREAD = {1: 1.5, 2: 1.4}  # learned from 1 or 2 runs; 3 or more: MIN_SPREAD
MIN_SPREAD = 1.3
NEW_PART_SPREAD = 1.25  # per part of the design no earlier run had
LOAD_SPREAD = 1.15  # a load unlike the runs': how much it slows a run is approximate
_CACHE_LIMIT = 500

_timings: dict[tuple[str, str], RunTiming] = {}  # a finished run's timing never changes


def current_load(runs: list[Run]) -> float:
    """The machine's load besides this workspace's runs (`runs`, the newest): runnable
    processes less the fit processes of those still going (a run queued behind them starts
    when they end)."""
    going = sum(r.spec.effective_n_jobs() for r in runs if r.status == RunStatus.RUNNING)
    return max(0.0, runnable_others() - going)


def estimate_run(
    workspace: Workspace,
    spec: ExperimentSpec,
    n_rows: int,
    auto_length: int,
    auto_length_of: Callable[[str], int],
    here: bool = False,
) -> Estimate:
    """The run's wall time, learned from this workspace's newest finished runs.

    `auto_length_of` gives another dataset's 'auto' sequence length; `here`: the run trains
    in this process, warm once it has imported TensorFlow (else a worker trains it, warm
    if the workspace's warm worker lives).
    """
    from lstm_core.jobs import standby

    store, cores = workspace.store, usable_cores()
    newest = store.list_runs(LOOKED_AT_RUNS)
    others = current_load(newest)
    runs = [r for r in newest if r.status == RunStatus.COMPLETED]
    same = [r for r in runs if r.dataset.id == spec.dataset_id]
    runs = (same or runs)[:HISTORY_RUNS]
    timings = []
    for run in runs:
        cached = _timings.get((str(workspace.root), run.id))
        if cached is None:
            epochs_of: dict[int, list[float]] = {}
            for epoch in store.epochs(run.id):
                if epoch.seconds is not None:
                    epochs_of.setdefault(epoch.trial_id, []).append(epoch.seconds)
            result = store.get_result(run.id)
            try:
                length = _own_auto_length(run, result) or (
                    auto_length if same else auto_length_of(run.dataset.id)
                )
            except (UserError, OSError):  # its dataset's files are gone: learn from the others
                continue
            launched = result.launch_load if result else None
            cached = run_timing(run, store.trials(run.id), epochs_of, length, launched, cores)
            if len(_timings) > _CACHE_LIMIT:
                _timings.clear()
            _timings[(str(workspace.root), run.id)] = cached
        timings.append(cached)
    warm = "keras" in sys.modules if here else standby.alive(workspace)
    last = timings[0] if timings and timings[0].dataset_id == spec.dataset_id else None
    kept = last.keys if warm and last is not None else frozenset()
    return describe(
        spec,
        predicted_seconds(
            spec,
            n_rows,
            auto_length,
            calibrate(timings, others, cores),
            others,
            warm,
            kept,
            cores,
        ),
        timings,
        others,
        bool(same),
    )


def _own_auto_length(run: Run, result: RunResult | None) -> int | None:
    """The length 'auto' gave a finished run on its own texts (with its own text settings,
    HTML stripped or not), when its design cut every text at 'auto'; else None."""
    if result is None or "sequence_length" in run.spec.grid:
        return None
    return result.sequence_length if run.spec.fixed()["sequence_length"] == "auto" else None


def describe(
    spec: ExperimentSpec, seconds: float, timings: list[RunTiming], others: float, same: bool
) -> Estimate:
    """The range and the basis: narrower the more runs it learned from, wider for each part
    of the design none of them had and for a load unlike theirs."""
    if not timings:
        busy = f"; {_processes(others)} running now, counted" if round(others) else ""
        return Estimate(
            seconds,
            GUESS_LOW * seconds,
            GUESS_HIGH * seconds,
            f"No finished run here yet: a rough guess from a quiet 2-core machine{busy}.",
        )
    archs = set().union(*(t.archs for t in timings))
    kinds = set().union(*(t.kinds for t in timings))
    new = [ARCHITECTURE_NAMES[a] for a in spec.architectures() if a not in archs]
    new += sorted(design_kinds(spec) - kinds)
    n = len(timings)
    spread = RUNS_SPREAD.get(n, MIN_SPREAD) * NEW_PART_SPREAD ** len(new)
    basis = f"From {n} earlier run{'s' if n > 1 else ''} on {'this' if same else 'other'} data"
    if new:
        basis += f"; new here: {', '.join(new)}"
    then = [t.others for t in timings if t.others is not None]
    if then and abs(others - statistics.median(then)) >= LOAD_DIFFERENT:
        busier = "busier" if others > statistics.median(then) else "quieter"
        basis += f"; the machine is {busier} now ({_processes(others)} running), counted"
        spread *= LOAD_SPREAD
    return Estimate(seconds, seconds / spread, seconds * spread, basis + ".", runs=n)


def _processes(others: float) -> str:
    count = round(others)
    return f"{count or 'no'} other process{'' if count == 1 else 'es'}"
