"""The model builder: every architecture of the registry builds, its table is the built
model's, padding is masked where the body reads a mask, every choice builds, and an
architecture is one file."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lstm_core.domain.architectures.registry import architecture
from lstm_core.domain.hyperparams import ACTIVATIONS, ARCHITECTURES, INIT_MODES, OPTIMIZERS
from lstm_core.models.model_zoo import (
    build_model,
    built_table,
    embedding_rows,
    layer_table,
    weights_per_token,
)

SMALL = {"max_tokens": 50, "embedding_dim": 4, "units": 3}


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize(
    "layers, dense_units, dropout_rate", [(1, 0, 0.0), (2, 5, 0.2), (3, 0, 0.0)]
)
def test_each_architectures_table_is_its_built_models(arch, layers, dense_units, dropout_rate):
    settings = {"layers": layers, "dense_units": dense_units, "dropout_rate": dropout_rate}
    model = build_model(arch, n_classes=3, sequence_length=7, **settings, **SMALL)
    rows = layer_table(model)
    assert sum(r.params for r in rows) == model.count_params()
    config = {"arch": arch, **settings, **SMALL}
    assert built_table(config, 3, 7) == rows, "the summary the page shows builds the same model"
    assert rows[0].layer.startswith("Embedding (50 rows") and rows[-1].layer == "Dense (softmax)"


@pytest.mark.parametrize("vocabulary_size", [30, 33, 700])
def test_the_embedding_is_sized_to_the_vocabulary_as_keras_builds_it(vocabulary_size):
    settings = {"max_tokens": 500, "embedding_dim": 4, "units": 3}
    model = build_model(
        "lstm", n_classes=2, sequence_length=5, vocabulary_size=vocabulary_size, **settings
    )
    table = built_table({"arch": "lstm", **settings}, 2, 5, vocabulary_size)
    assert sum(r.params for r in table) == model.count_params()
    rows = embedding_rows(vocabulary_size, 500)
    assert model.layers[1].input_dim == rows == {30: 32, 33: 64, 700: 500}[vocabulary_size]


def test_layer_table_reads_like_a_summary():
    model = build_model(
        "bilstm", n_classes=2, sequence_length=40, layers=2, units=8, dropout_rate=0.2
    )
    rows = layer_table(model)
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
    cnn = layer_table(build_model("cnn", n_classes=2, sequence_length=40, kernel_size=5))
    assert [r.layer for r in cnn] == [
        "Embedding (10,000 rows)",
        "Conv1D (32 filters over 5 words)",
        "GlobalMaxPooling1D",
        "Dense (softmax)",
    ]


def test_the_weights_a_token_passes_through_are_the_bodys():
    """What the cost model grows an epoch with: a recurrent layer's weights at each step,
    a convolution's at each position (not the embedding's, not the head's)."""
    lstm = {"arch": "lstm", "units": 16, "embedding_dim": 32, "layers": 1}
    assert weights_per_token(lstm) == 4 * 16 * (32 + 16 + 1)
    cnn = {"arch": "cnn", "units": 16, "embedding_dim": 32, "layers": 1, "kernel_size": 3}
    assert weights_per_token(cnn) == 16 * (3 * 32 + 1)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if architecture(a).masks_padding])
def test_padding_does_not_change_the_output(arch):
    """Masking works: the same words padded to 3 or to 12 positions give the same probabilities."""
    short = build_model(arch, n_classes=2, sequence_length=3, layers=2, **SMALL)
    long = build_model(arch, n_classes=2, sequence_length=12, layers=2, **SMALL)
    long.set_weights(short.get_weights())
    words = [5, 9, 17]
    a = np.asarray(short(np.array([words], dtype="int32")))
    b = np.asarray(long(np.array([words + [0] * 9], dtype="int32")))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_an_architecture_is_one_file_the_registry_finds(tmp_path):
    """A new file in the architectures' package is a new architecture everywhere: a choice
    of `arch`, its own hyperparameter in the table (searched only with it), a built model."""
    (tmp_path / "wide.py").write_text(
        textwrap.dedent(
            """
            from lstm_core.domain.architectures.architecture import Architecture
            from lstm_core.domain.hyperparameter import MODEL, NETWORK, integer


            def body(built, config):
                x = built.keras.layers.GlobalAveragePooling1D()(built.inputs)
                return built.keras.layers.Dense(config["width"], name=built.name(1))(x)


            ARCHITECTURE = Architecture(
                code="wide",
                name="Averaged words",
                help="Averaged words: the mean of the word vectors.",
                order=9,
                body=body,
                group="wide",
                export="    model.add(keras.layers.GlobalAveragePooling1D())\\n",
                hyperparameters=(integer("width", MODEL, 8, 1, 64, "Width", group=NETWORK),),
            )
            """
        )
    )
    code = textwrap.dedent(
        f"""
        import lstm_core.domain.architectures as package
        package.__path__.append({str(tmp_path)!r})
        from lstm_core.domain.hyperparams import HYPERPARAMETERS
        from lstm_core.domain.spec import ExperimentSpec
        from lstm_core.models.model_zoo import build_model, layer_table

        assert HYPERPARAMETERS["arch"].choices[-1] == "wide"
        assert HYPERPARAMETERS["width"].shown_label() == "width (Averaged words only)"
        spec = ExperimentSpec("d", grid={{"arch": ["lstm", "wide"], "width": [4, 8]}}).validated()
        assert sorted((c["arch"], c["width"]) for c in spec.candidates()) == [
            ("lstm", None), ("wide", 4), ("wide", 8)
        ]
        model = build_model("wide", n_classes=2, sequence_length=5, width=4, max_tokens=20)
        assert sum(r.params for r in layer_table(model)) == model.count_params()
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


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
