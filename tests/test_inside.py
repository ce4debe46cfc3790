"""Inside a model: gates recomputed from the weights match the layers' own states, and the
integrated-gradient attributions add up to the change they explain."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.insight.inside import gate_trace, integrated_gradients, tokens_and_ids
from lstm_core.models.model_zoo import body_layers, build_model, embedding_layer

IDS = np.array([5, 3, 9, 1, 12, 7], dtype=np.int32)


def tiny(arch: str, seed: int = 0):
    keras.utils.set_random_seed(seed)
    return build_model(arch, n_classes=2, sequence_length=None, vocabulary_size=16,
                       embedding_dim=5, units=3, max_tokens=16)  # fmt: skip


def own_states(model) -> np.ndarray:
    """The first recurrent layer's hidden state after each token, as Keras computes it."""
    layer = body_layers(model)[0]
    layer = getattr(layer, "forward_layer", layer)
    copy = type(layer).from_config({**layer.get_config(), "return_sequences": True})
    embedded = embedding_layer(model)(IDS[None, :])
    copy(embedded)
    copy.set_weights(layer.get_weights())
    return np.asarray(copy(embedded))[0]


@pytest.mark.parametrize(
    "arch, names",
    [
        ("lstm", {"input", "forget", "output", "cell", "hidden"}),
        ("gru", {"update", "reset", "hidden"}),
        ("rnn", {"hidden"}),
        ("bilstm", {"input", "forget", "output", "cell", "hidden"}),
    ],
)
def test_gates_recomputed_from_the_weights_match_the_layer(arch, names):
    model = tiny(arch)
    trace = gate_trace(model, IDS)
    assert set(trace.series()) == names
    for series in trace.series().values():
        assert np.shape(series) == (len(IDS), 3)
    np.testing.assert_allclose(trace.hidden, own_states(model), atol=1e-5)
    if arch in ("lstm", "bilstm"):  # gates are shares between 0 and 1; h = o * tanh(c)
        for name in ("input", "forget", "output"):
            assert np.min(getattr(trace, name)) > 0 and np.max(getattr(trace, name)) < 1
        expected = np.array(trace.output) * np.tanh(trace.cell)
        np.testing.assert_allclose(trace.hidden, expected, atol=1e-6)


def test_an_architecture_without_gates_has_no_trace():
    assert gate_trace(tiny("cnn"), IDS) is None


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "cnn"])
def test_attributions_add_up_to_the_change_from_the_baseline(arch):
    model = tiny(arch, seed=3)
    attributions, gradients, gap = integrated_gradients(model, IDS, target=1)
    assert attributions.shape == gradients.shape == (len(IDS),)
    embedded = embedding_layer(model)(IDS[None, :]).numpy()
    baseline = np.zeros_like(embedded)
    at_baseline, at_text = (float(np.asarray(_after(model, e))[0, 1]) for e in (baseline, embedded))
    total = at_text - at_baseline
    assert attributions.sum() == pytest.approx(total, abs=1e-4)
    assert abs(gap) < 1e-4


def _after(model, embedded):
    from lstm_core.insight.inside import _after_embedding

    return _after_embedding(model)(embedded)


def test_tokens_are_cut_as_the_model_reads_them_and_an_empty_text_is_one_unknown():
    vectorizer = SequenceVectorizer(sequence_length=3).fit(["free cash now", "see you"])
    tokens, ids, unread = tokens_and_ids(vectorizer, "Free CASH now please today")
    assert (tokens, unread) == (["free", "cash", "now"], 2)
    assert [vectorizer.vocabulary_[t] for t in tokens] == ids.tolist()
    tokens, ids, unread = tokens_and_ids(vectorizer, "!!!")
    assert (tokens, ids.tolist(), unread) == (["[unknown]"], [1], 0)


def test_a_model_padded_to_a_fixed_length_is_explained_as_it_predicts():
    """Without length buckets the model takes exactly `sequence_length` ids; an explained
    text is shorter, and its probabilities must still be the model's own."""
    from lstm_core.insight.inside import explain
    from lstm_core.models.bundle import Bundle

    vectorizer = SequenceVectorizer(sequence_length=8).fit(["free cash now", "see you soon"])
    keras.utils.set_random_seed(0)
    model = build_model("gru", n_classes=2, sequence_length=8, vocabulary_size=16,
                        embedding_dim=4, units=3, max_tokens=16)  # fmt: skip
    bundle = Bundle(model, vectorizer, ["ham", "spam"], {}, {})
    explained = explain(bundle, "free cash unheard")
    expected = bundle.predict_proba(["free cash unheard"])[0]
    assert [explained.probabilities[k] for k in ("ham", "spam")] == pytest.approx(
        expected, abs=1e-6
    )
    assert [t.known for t in explained.tokens] == [True, True, False]
    assert np.shape(explained.gates.hidden) == (3, 3)


def test_cli_explain_and_errors_follow_the_contract(tmp_path, capsys, monkeypatch):
    """A trained run explains a text (tokens, attributions, an LSTM's five traces) and
    lists its misclassified held-out texts."""
    from conftest import SAMPLE_SMS, cli_here

    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path))

    def cli(*args):
        return cli_here(capsys, *args)

    trained = cli("train", str(SAMPLE_SMS), "--text", "message", "--label", "label", "--arch",
                  "lstm", "--set", "units=4", "--set", "embedding_dim=4", "--epochs", "1",
                  "--cv", "0", "--json")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    run_id = json.loads(trained.stdout.strip().splitlines()[-1])["run_id"]
    done = cli("explain", run_id, "WINNER claim your free prize now", "--json")
    assert done.returncode == 0, done.stderr
    explained = json.loads(done.stdout.strip().splitlines()[-1])
    assert explained["label"] in explained["probabilities"]
    assert [t["token"] for t in explained["tokens"]] == ["winner", "claim", "your", "free",
                                                         "prize", "now"]  # fmt: skip
    assert all(isinstance(t["attribution"], float) for t in explained["tokens"])
    assert "integrated gradients" in explained["method"]
    assert set(explained["gates"]) == {"input", "forget", "output", "cell", "hidden"}
    assert np.shape(explained["gates"]["forget"]) == (6, 4)
    listed = cli("errors", run_id, "--json")
    assert listed.returncode == 0, listed.stderr
    for line in listed.stdout.strip().splitlines():
        wrong = json.loads(line)
        assert set(wrong) == {"text", "true", "predicted", "probabilities", "baseline_predicted"}
        assert wrong["true"] != wrong["predicted"]


def test_exported_code_trains_the_best_configuration_in_plain_keras(tmp_path, capsys, monkeypatch):
    """`export-code` writes a script that needs no workbench: run on the sample data (in a
    process of its own, as people run it) it learns the same classes and prints accuracy
    and macro-F1 last."""
    import subprocess
    import sys

    from conftest import SAMPLE_SENTIMENT, cli_here

    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    args = ["train", str(SAMPLE_SENTIMENT), "--text", "review", "--label", "sentiment",
            "--arch", "gru", "--set", "units=4", "--set", "embedding_dim=4", "--set",
            "dense_units=4", "--set", "class_weight=balanced", "--epochs", "1", "--cv", "0",
            "--json"]  # fmt: skip
    trained = cli_here(capsys, *args)
    assert trained.returncode == 0, trained.stderr
    run_id = json.loads(trained.stdout.strip().splitlines()[-1])["run_id"]
    script = tmp_path / "train_run.py"
    exported = cli_here(capsys, "export-code", run_id, "--out", str(script))
    assert exported.returncode == 0, exported.stderr
    text = script.read_text()
    assert "lstm_core" not in text and '"arch": "gru"' in text.replace("'", '"')
    done = subprocess.run([sys.executable, str(script), str(SAMPLE_SENTIMENT)],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 <= scores["macro_f1"] <= 1 and 0 <= scores["accuracy"] <= 1
    assert scores["classes"] == ["negative", "neutral", "positive"]
