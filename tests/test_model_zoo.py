"""The model builder: counts without TensorFlow match Keras, padding is masked, every choice builds."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_core.domain.hyperparams import ACTIVATIONS, INIT_MODES, OPTIMIZERS
from lstm_core.models.model_zoo import CELLS, build_model, count_params, embedding_rows, layer_table

SMALL = {"max_tokens": 50, "embedding_dim": 4, "units": 3}


@pytest.mark.parametrize("arch", list(CELLS))
@pytest.mark.parametrize("layers, dense_units", [(1, 0), (2, 5), (3, 0)])
def test_parameter_count_without_tensorflow_matches_keras(arch, layers, dense_units):
    model = build_model(
        arch, n_classes=3, sequence_length=7, layers=layers, dense_units=dense_units, **SMALL
    )
    assert (
        count_params(arch, 3, layers=layers, dense_units=dense_units, **SMALL)
        == model.count_params()
    )


@pytest.mark.parametrize("vocabulary_size", [30, 33, 700])
def test_the_embedding_is_sized_to_the_vocabulary_as_keras_builds_it(vocabulary_size):
    settings = {
        "max_tokens": 500,
        "embedding_dim": 4,
        "units": 3,
        "vocabulary_size": vocabulary_size,
    }
    model = build_model("lstm", n_classes=2, sequence_length=5, **settings)
    assert count_params("lstm", 2, **settings) == model.count_params()
    rows = embedding_rows(vocabulary_size, 500)
    assert model.layers[1].input_dim == rows == {30: 32, 33: 64, 700: 500}[vocabulary_size]


def test_layer_table_reads_like_a_summary():
    rows = layer_table("bilstm", 2, layers=2, units=8, sequence_length=40, dropout_rate=0.2)
    assert [r.layer for r in rows] == [
        "Embedding (10,000 rows, mask_zero)",
        "Bidirectional(LSTM)",
        "Dropout",
        "Bidirectional(LSTM)",
        "Dropout",
        "Dense (softmax)",
    ]
    assert rows[1].output_shape == "(None, 40, 16)"
    assert rows[3].output_shape == "(None, 16)"


@pytest.mark.parametrize("arch", list(CELLS))
def test_padding_does_not_change_the_output(arch):
    """Masking works: the same words padded to 3 or to 12 positions give the same probabilities."""
    short = build_model(arch, n_classes=2, sequence_length=3, layers=2, **SMALL)
    long = build_model(arch, n_classes=2, sequence_length=12, layers=2, **SMALL)
    long.set_weights(short.get_weights())
    words = [5, 9, 17]
    a = np.asarray(short(np.array([words], dtype="int32")))
    b = np.asarray(long(np.array([words + [0] * 9], dtype="int32")))
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_compiles_with_and_without_learning_rate(optimizer):
    for learning_rate in (None, 0.01):
        model = build_model(
            "gru",
            n_classes=2,
            sequence_length=4,
            optimizer=optimizer,
            learning_rate=learning_rate,
            **SMALL,
        )
        assert model.optimizer.__class__.__name__.lower() == optimizer
        if learning_rate:
            assert float(model.optimizer.learning_rate) == pytest.approx(learning_rate)


@pytest.mark.parametrize("init_mode", INIT_MODES)
def test_every_init_mode_builds(init_mode):
    model = build_model(
        "rnn", n_classes=2, sequence_length=4, init_mode=init_mode, dense_units=2, **SMALL
    )
    kernel = model.get_layer(index=2).get_weights()[0]
    assert (np.abs(kernel).sum() == 0) == (init_mode == "zero")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_builds_a_dense_layer(activation):
    model = build_model(
        "lstm", n_classes=2, sequence_length=4, activation=activation, dense_units=3, **SMALL
    )
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"][0]
    assert dense.activation.__name__ == activation


@pytest.mark.parametrize("arch", ["lstm", "bigru"])
def test_training_step_is_traced_once_per_model(arch):
    """No variable is first created inside the traced step (TensorFlow would trace it again)."""
    import tensorflow as tf

    model = build_model(arch, n_classes=2, sequence_length=5, **SMALL)
    created_while_tracing = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            created_while_tracing.append(kwargs.get("name"))
        return next_creator(**kwargs)

    x = np.arange(1, 21, dtype="int32").reshape(4, 5) % SMALL["max_tokens"]
    with tf.variable_creator_scope(creator):
        model.fit(x, np.array([0, 1, 0, 1]), epochs=1, batch_size=2, verbose=0)
    assert created_while_tracing == []


@pytest.mark.parametrize(
    ("layer", "weights"),
    [
        ("SimpleRNN", lambda n, m: n * (m + n + 1)),
        ("LSTM", lambda n, m: 4 * n * (m + n + 1)),
        ("GRU", lambda n, m: 3 * n * (m + n + 2)),
    ],
)
def test_the_weight_formulas_the_experiment_page_teaches_match_keras(layer, weights):
    """explanations.py states these counts; a student checks them against the summaries."""
    import keras

    n, m = 5, 7
    built = getattr(keras.layers, layer)(n)
    built.build((None, 3, m))
    assert built.count_params() == weights(n, m)
    both = keras.layers.Bidirectional(getattr(keras.layers, layer)(n))
    both.build((None, 3, m))
    assert both.count_params() == 2 * weights(n, m)
