"""Length-bucketed batches: texts of similar length share a batch padded only to its longest.

Padding every batch to the run's sequence length makes the recurrent layer step through
padding; on spam.csv bucketed batches hold 0.47x the tokens and an LSTM epoch takes
0.55-0.8x the time (bench/RESULTS.md). Rows are sorted by length only within random chunks
of `CHUNK_BATCHES` batches, so a batch's rows change from epoch to epoch, and the batch
order is shuffled, so long and short batches alternate. Length and class go together in
real data (spam is longer than ham), so a batch of long texts leans to one class; held-out
macro-F1 on spam.csv was no worse than with padded batches (bench/bucketing.py).

Sequences are post-padded with id 0, so cutting a batch to its longest text drops only
padding. The tf.data signature leaves the length open: TensorFlow traces one training step
for every width; JAX compiles one per width, so there widths are rounded up (`width_step`).
"""

from __future__ import annotations

import numpy as np

CHUNK_BATCHES = 50
JAX_WIDTH_STEP = 16


def width_step() -> int:
    """Batch widths are multiples of this. JAX compiles the training step once per batch
    shape (about 2.5 s each for an LSTM here), so under JAX a few widths serve every length;
    TensorFlow's one traced step takes any width."""
    import keras

    return JAX_WIDTH_STEP if keras.backend.backend() == "jax" else 1


def padded_width(longest: int, full: int, step: int) -> int:
    """What a batch whose longest text has `longest` tokens is cut to (at most `full`)."""
    return min(full, -(-longest // step) * step)


def text_lengths(x: np.ndarray) -> np.ndarray:
    """Tokens up to and including the last non-padding id of each row (at least 1)."""
    x = np.asarray(x)
    if x.shape[1] == 0:
        return np.ones(len(x), dtype=np.int64)
    last = x.shape[1] - np.argmax(x[:, ::-1] != 0, axis=1)
    return np.where((x != 0).any(axis=1), last, 1)


def plan_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Row indices of each batch. With `rng`: shuffled for training; without: sorted."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    batches = []
    chunk_rows = batch_size * CHUNK_BATCHES
    for start in range(0, len(order), chunk_rows):
        chunk = order[start : start + chunk_rows]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def padded_tokens(lengths: np.ndarray, batches: list[np.ndarray]) -> int:
    """Token slots the recurrent layer steps through for these batches."""
    return int(sum(int(lengths[rows].max()) * len(rows) for rows in batches))


def bucketed_dataset(x, y, sample_weight=None, *, batch_size: int, seed: int | None):
    """A tf.data.Dataset of (x, y[, weight]) batches, re-planned at every pass.

    `seed` None gives a fixed, length-sorted order (validation); an int gives training
    batches, reshuffled each epoch from that seed.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    lengths = text_lengths(x)
    rng = None if seed is None else np.random.default_rng(seed)
    step = width_step()
    parts = (x, y) if sample_weight is None else (x, y, np.asarray(sample_weight, "float32"))

    def batches():
        for rows in plan_batches(lengths, batch_size, rng):
            width = padded_width(int(lengths[rows].max()), x.shape[1], step)
            yield (parts[0][rows, :width], *(part[rows] for part in parts[1:]))

    signature = (tf.TensorSpec((None, None), tf.as_dtype(x.dtype)),) + tuple(
        tf.TensorSpec((None, *part.shape[1:]), tf.as_dtype(part.dtype)) for part in parts[1:]
    )
    n_batches = -(-len(x) // batch_size)
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)
