"""What earlier runs took, part by part, over the built-in cost model: the ratios an
estimate learns from (`lstm_core.insight.estimates`), read from the trials' and epochs' seconds a
finished run recorded, each run's load when it started divided out."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from lstm_core.domain.entities import Run, Trial, TrialStatus
from lstm_core.domain.hyperparams import defaults, model_key
from lstm_core.domain.searches import BAYESIAN
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.domain.start_settings import SELF_VECTORS
from lstm_core.insight.cost_model import (
    COLD_START_S,
    FIT_S,
    Calibration,
    first_epoch_seconds,
    outside_seconds,
    seconds_per_epoch,
    slowdown,
    stopping_of,
    tokens_per_text,
)

COLD_AT_LEAST_S = 1.0  # a run whose first fits paid more than this started cold


@dataclass
class Ratios:
    """Observed seconds over the built-in model's, part by part, each with whether its fit
    ran alone (the refit, the work outside the fits) or beside the run's other fits."""

    epoch: dict[str, list[tuple[float, bool]]] = field(default_factory=dict)  # per arch
    fresh: list[tuple[float, bool]] = field(default_factory=list)  # first epochs, new models
    kept: list[tuple[float, bool]] = field(default_factory=list)  # first epochs, kept models
    fit: list[tuple[float, bool]] = field(default_factory=list)
    cold: list[tuple[float, bool]] = field(default_factory=list)
    outside: list[tuple[float, bool]] = field(default_factory=list)
    epoch_share: dict[tuple, float] = field(default_factory=dict)  # later epochs run / planned


@dataclass(frozen=True)
class RunTiming:
    """What one finished run's parts took over the built-in model's (cached: a finished run
    never changes), with what its load was when it was launched."""

    run_id: str
    dataset_id: str
    ratios: Ratios
    archs: frozenset[str]
    kinds: frozenset[str]  # the parts of its design besides fits (see `design_kinds`)
    keys: frozenset  # the model keys its fit processes keep
    workers: int  # fits it ran at once
    others: float | None  # runnable processes besides it when it was launched (None: unknown)


def design_kinds(spec: ExperimentSpec) -> frozenset[str]:
    """Parts of a design that cost time of their own, by how the basis names them."""
    kinds = {
        "word2vec": spec.vectors == SELF_VECTORS,
        "word vectors from a file": bool(spec.vectors) and spec.vectors != SELF_VECTORS,
        "a saved model": bool(spec.parent),
        "fine-tuning": bool(spec.fine_tune_epochs),
        "a Bayesian search": spec.search in BAYESIAN,
    }
    return frozenset(name for name, used in kinds.items() if used)


def _union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least one of the intervals was going."""
    total, end = 0.0, -math.inf
    for start, finish in sorted(intervals):
        if finish > end:
            total += finish - max(start, end)
            end = finish
    return total


def run_timing(
    run: Run,
    trials: list[Trial],
    epochs_of: dict[int, list[float]],
    auto_length: int,
    others: float | None,
    cores: int,
) -> RunTiming:
    """Each part's ratio to the built-in model in a finished run, its load not yet divided
    out; `epochs_of`: each trial's epoch seconds in order; `others`: the load when it
    started; `cores`: the cores its fits could use."""
    spec, ratios = run.spec, Ratios()
    done = [
        t
        for t in trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.PRUNED)
        and t.finished_at is not None
        and epochs_of.get(t.id)
    ]
    seen: dict[object, set] = {}
    fixed: dict[int, tuple[float, bool]] = {}
    firsts: dict[object, int] = {}
    planned = run_epochs = 0
    for trial in done:
        config, seconds, alone = {**defaults(), **trial.params}, epochs_of[trial.id], trial.is_refit
        rows, length = trial.n_train, tokens_per_text(config, auto_length)
        key = model_key(config)
        fresh = key not in seen.setdefault(trial.pid, set())
        seen[trial.pid].add(key)
        (ratios.fresh if fresh else ratios.kept).append(
            (seconds[0] / first_epoch_seconds(config, rows, length, fresh), alone)
        )
        steady = seconds_per_epoch(config, rows, length)
        for index, epoch in enumerate(seconds[1:], start=1):
            if index == trial.epochs_planned:  # the fine-tune phase traces again
                ratios.fresh.append(
                    (epoch / first_epoch_seconds(config, rows, length, True), alone)
                )
            else:
                ratios.epoch.setdefault(config["arch"], []).append((epoch / steady, alone))
        fixed[trial.id] = (max(0.0, trial.seconds - sum(seconds)), alone)
        firsts.setdefault(trial.pid, trial.id)
        planned += trial.epochs_planned + spec.fine_tune_epochs
        run_epochs += len(seconds)
    # A fit process's first fit also paid its start (TensorFlow's import, when cold).
    later = [fixed[t] for t in fixed if t not in firsts.values()] or list(fixed.values())
    ratios.fit.extend((seconds / FIT_S, alone) for seconds, alone in later)
    if later:
        typical = statistics.median(seconds for seconds, _ in later)
        start = max(fixed[t][0] for t in firsts.values()) - typical
        ratios.cold.append((max(0.0, start) / COLD_START_S, False))
    if run.started_at is not None and run.finished_at is not None and done:
        wall = run.finished_at - run.started_at
        outside = wall - _union_seconds([(t.started_at, t.finished_at) for t in done])
        built_in = outside_seconds(spec, run.dataset.rows, auto_length)
        ratios.outside.append((max(0.0, outside) / built_in, True))
    if planned > len(done) and stopping_of(spec) != ("none", False):  # first epochs always run
        ratios.epoch_share[stopping_of(spec)] = (run_epochs - len(done)) / (planned - len(done))
    return RunTiming(
        run.id,
        run.dataset.id,
        ratios,
        frozenset(spec.architectures()),
        design_kinds(spec),
        frozenset().union(*seen.values()),
        min(cores, len({t.pid for t in done if not t.is_refit}) or 1),
        others,
    )


def calibrate(timings: list[RunTiming], others_now: float, cores: int) -> Calibration:
    """The medians of the runs' ratios part by part, each run's load divided out (a run
    whose load is unknown is taken to have had today's, so that it cancels out)."""
    pooled: dict[str, list[float]] = {}
    shares: dict[tuple, list[float]] = {}
    for timing in timings:
        ratios = timing.ratios
        load = others_now if timing.others is None else timing.others
        beside, alone = slowdown(load, timing.workers, cores), slowdown(load, 1, cores)
        parts = {f"epoch {arch}": values for arch, values in ratios.epoch.items()}
        parts |= {
            name: getattr(ratios, name) for name in ("fresh", "kept", "fit", "cold", "outside")
        }
        for name, values in parts.items():
            normalized = [value / (alone if by_itself else beside) for value, by_itself in values]
            pooled.setdefault(name, []).extend(normalized)
            if name.startswith("epoch "):
                pooled.setdefault("epoch", []).extend(normalized)
        for stopping, share in ratios.epoch_share.items():
            shares.setdefault(stopping, []).append(share)
    everything = [
        v for name, values in pooled.items() if name not in ("epoch", "cold") for v in values
    ]
    machine = statistics.median(everything or [1.0])

    def median(name: str) -> float:
        return statistics.median(pooled[name]) if pooled.get(name) else machine

    # Only some runs start cold (no warm worker): the typical start of those that did.
    starts = [ratio for ratio in pooled.get("cold", []) if ratio * COLD_START_S > COLD_AT_LEAST_S]
    return Calibration(
        {
            name.removeprefix("epoch "): statistics.median(values)
            for name, values in pooled.items()
            if name.startswith("epoch ")
        },
        median("epoch"),
        machine,
        median("fresh"),
        median("kept"),
        median("fit"),
        statistics.median(starts) if starts else machine,
        median("outside"),
        {stopping: statistics.median(values) for stopping, values in shares.items()},
    )
