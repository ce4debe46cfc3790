"""A rough time estimate for a run, shown before launch (no TensorFlow needed).

Calibrated on this project's 2-core machine: an LSTM with 16 units and 32-wide
embeddings took about 1.0 s per epoch on 2,228 spam.csv texts cut to 34 tokens (13 us per
token), and every new model costs about 2 s of graph tracing before its first step (a
fit process reuses a traced model for later fits of the same architecture).
"""

from __future__ import annotations

from lstm_core.hyperparams import model_key
from lstm_core.model_zoo import CELLS, recurrent_params
from lstm_core.spec import ExperimentSpec

TRACE_SECONDS_PER_FIT = 2.0
BASE_US_PER_TOKEN = 10.0
WEIGHT_US_PER_TOKEN = 1e-3  # per recurrent weight touched per token
RECURRENT_DROPOUT_SLOWDOWN = 2.0  # measured: 10.3 s vs 5.6 s per epoch (docs/DESIGN.md)
BUCKETED_TIME_SHARE = 0.7  # length-bucketed batches, spam.csv LSTM (bench/bucketing.py)
PARALLEL_CONTENTION = 1.45  # 2 workers on 2 cores gave 1.38x, not 2x (bench/run.py)


def seconds_per_epoch(config: dict, n_rows: int, tokens_per_text: float) -> float:
    arch, units, width = config["arch"], config["units"], config["embedding_dim"]
    weights = 0
    for _ in range(config["layers"]):
        weights += recurrent_params(arch, width, units)
        width = units * (2 if CELLS[arch][2] else 1)
    microseconds = BASE_US_PER_TOKEN + WEIGHT_US_PER_TOKEN * weights
    if config["recurrent_dropout"]:
        microseconds *= RECURRENT_DROPOUT_SLOWDOWN
    if config["length_buckets"]:
        microseconds *= BUCKETED_TIME_SHARE
    return n_rows * tokens_per_text * microseconds / 1e6


def estimate_run_seconds(spec: ExperimentSpec, n_rows: int, auto_length: int) -> float:
    """Wall seconds for the search plus the refit, with the fits spread over the workers.

    `auto_length` is the sequence length the "auto" policy picks for this data. Padded to
    a fixed length, every text costs that length; with length buckets a batch pads only to
    its own longest text, so a length above `auto_length` costs about `auto_length` (few
    texts are longer).
    """
    train_rows = n_rows * (1 - spec.test_size)
    fold_rows = train_rows * (1 - 1 / spec.cv) if spec.cv else train_rows * 0.8
    candidates = spec.typical_candidates()

    def training(config: dict, rows: float) -> float:
        length = auto_length if config["sequence_length"] == "auto" else config["sequence_length"]
        if config["length_buckets"]:
            length = min(length, auto_length)
        epochs = config["epochs"] + spec.fine_tune_epochs  # frozen layers: an upper bound
        return epochs * seconds_per_epoch(config, rows, length)

    workers = min(spec.effective_n_jobs(), len(candidates) * spec.n_splits())
    # A candidate's folds go to the fit process that keeps its model (lstm_core.executors),
    # so each distinct model is traced about once.
    traces = len({model_key(c) for c in candidates})
    search = sum(training(c, fold_rows) for c in candidates) * spec.n_splits()
    search += traces * TRACE_SECONDS_PER_FIT
    contention = PARALLEL_CONTENTION if workers > 1 else 1.0
    refit = TRACE_SECONDS_PER_FIT + max(training(c, train_rows) for c in candidates)
    return search / workers * contention + refit
