"""The built-in cost model: how long each part of a run takes alone on a quiet 2-core
machine, and how each moves with the design.

A steady epoch grows with the tokens and the body's weights each token passes through
(read from the built model: `model_zoo.weights_per_token`) (an LSTM with 16
units and 32-wide embeddings: about 13 us per token); the first epoch of a fit traces a new
model (about 1 s more; a kept one is not traced again); a fit has its own work (vectorizing,
building, scoring); a cold start imports TensorFlow in the fit processes; and a run works
outside its fits (data, word2vec, Bayesian proposals, baseline, bundle). `Calibration`
multiplies each part by what this machine's runs showed (`lstm_core.insight.run_timings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_core.domain.hyperparams import model_key
from lstm_core.domain.searches import BAYESIAN, resource_share
from lstm_core.domain.spec import ExperimentSpec, usable_cores
from lstm_core.domain.start_settings import SELF_VECTORS
from lstm_core.models.model_zoo import weights_per_token

# The built-in model: one fit alone on a quiet 2-core machine (the per-token costs from
# spam.csv; the fit and run costs from bench/estimates.py's quiet runs, bench/RESULTS.md).
BASE_US_PER_TOKEN = 10.0
WEIGHT_US_PER_TOKEN = 1e-3  # per body weight touched per token
RECURRENT_DROPOUT_SLOWDOWN = 2.0  # measured: 10.3 s vs 5.6 s per epoch (docs/DESIGN.md)
BUCKETED_TIME_SHARE = 0.7  # length-bucketed batches, spam.csv LSTM (bench/bucketing.py)
EPOCH_S = 0.05  # each epoch's own cost: validation, callbacks, the store
TRACE_SECONDS_PER_FIT = 1.0  # a new model's first epoch traces its training step
KEPT_FIRST_EPOCH_S = 0.4  # a kept model's first epoch sets up its batches
FIT_S = 0.5  # a fit's work outside its epochs: vectorizing, building, scoring
COLD_START_S = 3.5  # fit processes importing TensorFlow
OUTSIDE_S = 1.5  # a run's work outside its fits: data, baseline, evaluation, bundle
PROPOSAL_S = 0.1  # a Bayesian search's proposal of one candidate
WORD2VEC_S = 1.0  # `--vectors self`: importing gensim
WORD2VEC_US_PER_TOKEN = 3.0
PARALLEL_CONTENTION = 1.45  # 2 workers on 2 cores gave 1.38x, not 2x (bench/run.py)
CV0_FIT_SHARE = 0.8  # cv = 0 fits on the training split less its validation share


def seconds_per_epoch(config: dict, n_rows: float, tokens_per_text: float) -> float:
    """The built-in model's steady epoch (after the first) of one fit."""
    microseconds = BASE_US_PER_TOKEN + WEIGHT_US_PER_TOKEN * weights_per_token(config)
    if config["recurrent_dropout"]:
        microseconds *= RECURRENT_DROPOUT_SLOWDOWN
    if config["length_buckets"]:
        microseconds *= BUCKETED_TIME_SHARE
    return EPOCH_S + n_rows * tokens_per_text * microseconds / 1e6


def tokens_per_text(config: dict, auto_length: int) -> int:
    """Padded to a fixed length every text costs that length; with length buckets a batch
    pads only to its own longest text, so a length above `auto_length` costs about
    `auto_length` (few texts are longer)."""
    length = config["sequence_length"]
    length = auto_length if length == "auto" else int(length)
    return min(length, auto_length) if config["length_buckets"] else length


def slowdown(others: float, workers: int, cores: int) -> float:
    """How much slower a run's fits go than one fit alone on a quiet machine: its own
    parallel fits contend, and other runnable processes take their share of the cores."""
    own = PARALLEL_CONTENTION if workers > 1 else 1.0
    return own * max(1.0, (others + workers) / cores)


@dataclass(frozen=True)
class Fit:
    """One fit as the model sees it."""

    config: dict
    rows: float
    epochs: int  # fine-tune epochs included
    phases: int  # 2 when a fine-tune phase compiles and traces the model again
    fresh: bool  # no fit process keeps its model yet: its first epoch traces it


@dataclass(frozen=True)
class Calibration:
    """Multipliers of the built-in model's parts (1: as built in)."""

    epoch: dict[str, float]  # per architecture
    any_epoch: float  # every architecture's steady epochs
    machine: float  # every part at once: for parts no earlier run showed
    fresh: float
    kept: float
    fit: float
    cold: float
    outside: float
    epoch_share: dict[tuple, float]

    def steady(self, arch: str) -> float:
        return self.epoch.get(arch, self.any_epoch)


BUILT_IN = Calibration({}, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, {})


def stopping_of(spec: ExperimentSpec) -> tuple[str, bool]:
    """What can end a design's fits before their last epoch: the pruner, early stopping."""
    return (spec.prune if spec.search in BAYESIAN else "none", bool(spec.highest("patience")))


def planned_fits(
    spec: ExperimentSpec, n_rows: int, kept: frozenset = frozenset()
) -> tuple[list[Fit], Fit]:
    """The search's fits and the refit of the costliest candidate; `kept`: model keys a
    warm fit process already keeps."""
    train_rows = n_rows * (1 - spec.test_size)
    fold_rows = train_rows * (1 - 1 / spec.cv) if spec.cv else train_rows * CV0_FIT_SHARE
    candidates = spec.typical_candidates()
    rounds = spec.rounds()
    phases = 2 if spec.fine_tune_epochs else 1
    by_epochs = spec.search == "halving" and spec.halving_resource == "epochs"
    seen = set(kept)
    fits = []
    for number, size in enumerate(rounds):
        share = resource_share(number, len(rounds))
        for config in candidates[:size]:
            epochs = max(1, round(config["epochs"] * share)) if by_epochs else config["epochs"]
            rows = fold_rows if by_epochs else fold_rows * share
            # A candidate's folds go to the fit process that keeps its model
            # (lstm_core.execution.executors), so each distinct model is traced about once.
            key = model_key(config)
            for _ in range(spec.n_splits()):
                fits.append(
                    Fit(config, rows, epochs + spec.fine_tune_epochs, phases, key not in seen)
                )
                seen.add(key)
    costliest = max(candidates, key=lambda c: seconds_per_epoch(c, train_rows, 1) * c["epochs"])
    epochs = costliest["epochs"] + spec.fine_tune_epochs
    return fits, Fit(costliest, train_rows, epochs, phases, False)


def first_epoch_seconds(config: dict, rows: float, length: int, fresh: bool) -> float:
    """The built-in model's first epoch of a fit: a new model traces its training step."""
    extra = TRACE_SECONDS_PER_FIT if fresh else KEPT_FIRST_EPOCH_S
    return seconds_per_epoch(config, rows, length) + extra


def fit_seconds(fit: Fit, auto_length: int, calibration: Calibration, share: float) -> float:
    """One fit alone on a quiet machine, as calibrated; `share` of its later epochs run."""
    length = tokens_per_text(fit.config, auto_length)
    first = (calibration.fresh if fit.fresh else calibration.kept) * first_epoch_seconds(
        fit.config, fit.rows, length, fit.fresh
    )
    phases = (
        (fit.phases - 1)
        * calibration.fresh
        * first_epoch_seconds(fit.config, fit.rows, length, True)
    )
    steady = calibration.steady(fit.config["arch"]) * seconds_per_epoch(
        fit.config, fit.rows, length
    )
    later = max(0, fit.epochs - fit.phases) * share
    return calibration.fit * FIT_S + first + phases + later * steady


def outside_seconds(spec: ExperimentSpec, n_rows: int, auto_length: int) -> float:
    """The built-in model's work of a run outside its fits."""
    seconds = OUTSIDE_S
    if spec.vectors == SELF_VECTORS:
        training_tokens = n_rows * (1 - spec.test_size) * auto_length
        seconds += WORD2VEC_S + training_tokens * WORD2VEC_US_PER_TOKEN / 1e6
    if spec.search in BAYESIAN:
        seconds += PROPOSAL_S * spec.n_candidates()
    return seconds


def predicted_seconds(
    spec: ExperimentSpec,
    n_rows: int,
    auto_length: int,
    calibration: Calibration,
    others: float,
    warm: bool,
    kept: frozenset,
    cores: int,
) -> float:
    """Wall seconds on `cores` cores beside `others` runnable processes: a cold start, the
    search spread over the fit processes, the refit (one fit alone) and the work outside
    the fits."""
    fits, refit = planned_fits(spec, n_rows, kept)
    workers = spec.effective_n_jobs()
    in_search, alone = slowdown(others, workers, cores), slowdown(others, 1, cores)
    share = calibration.epoch_share.get(stopping_of(spec), 1.0)
    search = sum(fit_seconds(f, auto_length, calibration, share) for f in fits)
    search *= in_search / workers
    if spec.search in BAYESIAN and spec.time_budget_s:
        longest = max(fit_seconds(f, auto_length, calibration, 1.0) for f in fits)
        search = min(search, spec.time_budget_s + longest * in_search)
    seconds = search + alone * fit_seconds(refit, auto_length, calibration, 1.0)
    seconds += alone * calibration.outside * outside_seconds(spec, n_rows, auto_length)
    if not warm:
        seconds += in_search * calibration.cold * COLD_START_S
    return seconds


def estimate_run_seconds(spec: ExperimentSpec, n_rows: int, auto_length: int) -> float:
    """The built-in model's wall seconds on a quiet 2-core machine, fit processes warm;
    `auto_length` is the sequence length the "auto" policy picks for this data."""
    return predicted_seconds(
        spec, n_rows, auto_length, BUILT_IN, 0.0, True, frozenset(), usable_cores()
    )
