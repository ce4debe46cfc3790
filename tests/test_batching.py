"""Length-bucketed batches: every row once per epoch, no real token cut, less padding."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_core.models.batching import bucketed_dataset, padded_tokens, plan_batches, text_lengths


def post_padded(lengths, width, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((len(lengths), width), dtype=np.int32)
    for row, length in enumerate(lengths):
        x[row, :length] = rng.integers(1, 50, size=length)
    return x


def skewed_lengths(n=1000, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Like SMS: most texts short, the minority class long."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(np.int32)
    lengths = np.where(y == 1, rng.integers(15, 40, n), rng.integers(1, 20, n))
    return lengths, y


def test_lengths_count_up_to_the_last_real_token():
    x = np.array([[5, 3, 0, 0], [2, 0, 7, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
    assert text_lengths(x).tolist() == [2, 3, 1, 4]


@pytest.mark.parametrize("rng", [None, np.random.default_rng(0)])
def test_a_plan_holds_every_row_once_in_full_batches(rng):
    lengths, _ = skewed_lengths(1000)
    batches = plan_batches(lengths, 32, rng)
    assert len(batches) == -(-1000 // 32)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert sum(len(b) == 32 for b in batches) == len(batches) - 1


def test_bucketed_batches_step_through_much_less_padding():
    lengths, _ = skewed_lengths(3000)
    batches = plan_batches(lengths, 32, np.random.default_rng(0))
    assert padded_tokens(lengths, batches) < 0.6 * len(lengths) * lengths.max()


def test_training_batches_change_each_epoch_and_keep_every_token():
    lengths, y = skewed_lengths(500)
    x = post_padded(lengths, 40)
    weights = np.linspace(0.5, 1.5, len(x)).astype("float32")
    dataset = bucketed_dataset(x, y, weights, batch_size=32, seed=0)
    assert int(dataset.cardinality()) == -(-500 // 32)

    def rows(xb, yb, wb) -> list[tuple]:
        return [(tuple(r[r != 0]), int(t), float(w)) for r, t, w in zip(xb, yb, wb, strict=True)]

    epochs = []
    for _ in range(2):
        seen = []
        for xb, yb, wb in dataset.as_numpy_iterator():
            assert xb.shape[1] == text_lengths(xb).max()
            seen += rows(xb, yb, wb)
        epochs.append(seen)
    expected = sorted(rows(x, y, weights))
    assert sorted(epochs[0]) == expected == sorted(epochs[1])
    assert epochs[0] != epochs[1]


def test_validation_batches_are_the_same_every_pass():
    lengths, y = skewed_lengths(200)
    dataset = bucketed_dataset(post_padded(lengths, 40), y, batch_size=16, seed=None)
    first, second = (list(dataset.as_numpy_iterator()) for _ in range(2))
    assert len(first[0]) == 2
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, second, strict=True))


def test_a_variable_length_model_traces_its_training_step_once():
    """Batches of many widths must not each trace a new graph (about 1 s apiece)."""
    from lstm_core.models.model_zoo import build_model

    lengths, y = skewed_lengths(300)
    model = build_model(
        "lstm", n_classes=2, sequence_length=None, units=4, embedding_dim=4, max_tokens=50
    )
    traces = []
    step = model.train_step
    model.train_step = lambda data: traces.append(1) or step(data)
    dataset = bucketed_dataset(post_padded(lengths, 40), y, batch_size=16, seed=0)
    model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    widths = {xb.shape[1] for xb, _ in dataset.as_numpy_iterator()}
    assert len(widths) > 5
    assert len(traces) == 1
