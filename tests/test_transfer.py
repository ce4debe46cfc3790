"""Starting from a saved model (frozen layers, fine-tuning) and from word vectors, on real
runs in a real workspace; the bundle a fresh process loads predicts the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, toy_texts

from lstm_core.api import Engine, ExperimentSpec, RunStatus, UserError
from lstm_core.models.bundle import Bundle

SMALL = {**TINY, "epochs": 2, "units": 6, "embedding_dim": 6}


def dataset(engine: Engine, first: str, second: str, name: str, seed: int = 0):
    texts, labels = toy_texts(seed=seed)
    labels = np.where(labels == "spam", first, second)
    frame = pd.DataFrame({"text": texts, "label": labels})
    return engine.freeze_dataset(frame, "text", "label", name)[0]


def trained(engine: Engine, dataset_id: str, **spec) -> str:
    params = spec.pop("params", SMALL)
    run = engine.train(ExperimentSpec(dataset_id, params=params, cv=0, n_jobs=1, **spec))
    assert run.status == RunStatus.COMPLETED, run.error
    return run.id


def layer_weights(engine: Engine, run_id: str) -> dict[str, list[np.ndarray]]:
    """Weights of the saved model's embedding and recurrent layers, by kind."""
    from lstm_core.models.model_zoo import body_layers, embedding_layer

    model = Bundle.load(engine.workspace.bundle_dir(run_id)).model
    return {
        "embedding": embedding_layer(model).get_weights(),
        "recurrent": [w for layer in body_layers(model) for w in layer.get_weights()],
    }


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    """A tiny spam / ham model, and a second data set with other classes to reuse it on."""
    engine = Engine(tmp_path_factory.mktemp("transfer") / "ws")
    spam = dataset(engine, "spam", "ham", "spam.csv")
    mood = dataset(engine, "sad", "glad", "mood.csv", seed=1)
    return engine, trained(engine, spam.id), mood.id


def test_frozen_layers_stay_as_they_were_and_fine_tuning_changes_them(parent):
    engine, parent_id, mood = parent
    before = layer_weights(engine, parent_id)
    frozen = trained(engine, mood, parent=parent_id)  # --freeze all by default
    after = layer_weights(engine, frozen)
    assert same(after["embedding"], before["embedding"])
    assert same(after["recurrent"], before["recurrent"])
    result = engine.result(frozen)
    assert result.parent == parent_id
    assert result.parameters.frozen == sum(w.size for ws in before.values() for w in ws)
    assert result.parameters.trainable == 6 * 2 + 2  # the new softmax head: 6 units -> 2 classes
    assert engine.run(frozen).spec.params["units"] == 6  # taken from the saved model

    embedding_only = layer_weights(
        engine, trained(engine, mood, parent=parent_id, freeze="embedding")
    )
    assert same(embedding_only["embedding"], before["embedding"])
    assert not same(embedding_only["recurrent"], before["recurrent"])

    tuned_id = trained(engine, mood, parent=parent_id, fine_tune_epochs=2)
    tuned = layer_weights(engine, tuned_id)
    assert not same(tuned["embedding"], before["embedding"])
    assert not same(tuned["recurrent"], before["recurrent"])
    epochs = engine.epochs(tuned_id)
    assert {e.epoch for e in epochs if e.trial_id == epochs[-1].trial_id} == {0, 1, 2, 3}
    assert engine.lineage(tuned_id) == [parent_id]


def test_each_recurrent_layer_can_be_frozen_on_its_own(parent):
    engine, _, mood = parent
    spam = engine.run(parent[1]).dataset.id
    two_layers = trained(engine, spam, params={**SMALL, "layers": 2})
    before = layer_weights(engine, two_layers)["recurrent"]
    child = trained(engine, mood, parent=two_layers, freeze="recurrent_1")
    after = layer_weights(engine, child)["recurrent"]
    half = len(before) // 2  # each LSTM layer: kernel, recurrent kernel, bias
    assert same(after[:half], before[:half])
    assert not same(after[half:], before[half:])
    assert engine.run(child).spec.freeze == "recurrent_1"
    assert engine.result(child).parameters.frozen == sum(w.size for w in before[:half])


def test_a_transferred_model_predicts_the_same_in_a_fresh_process(parent):
    engine, parent_id, mood = parent
    run_id = trained(engine, mood, parent=parent_id, freeze="recurrent", fine_tune_epochs=1)
    texts = ["win cash now", "see you at lunch mum"]
    here = engine.predict(run_id, texts)
    assert {item.label for item in here} <= {"sad", "glad"}
    env = {**os.environ, "LSTM_CORE_HOME": str(engine.root)}
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "predict", run_id, *texts, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    fresh = [json.loads(line) for line in done.stdout.strip().splitlines()]
    for a, b in zip(here, fresh, strict=True):
        assert a.label == b["label"]
        for label, p in a.probabilities.items():
            assert b["probabilities"][label] == pytest.approx(p, abs=1e-6)


def test_frozen_word_vectors_keep_the_file_s_numbers_in_the_saved_model(parent, tmp_path):
    engine, _, mood = parent
    rng = np.random.default_rng(7)
    words = ["lunch", "home", "later", "mum", "see", "you", "win", "prize"]
    vectors = {w: rng.normal(size=6).astype(np.float32) for w in words}
    filler = {f"other{i}": rng.normal(size=6).astype(np.float32) for i in range(300)}
    lines = [
        f"{w} " + " ".join(repr(float(x)) for x in v) for w, v in {**vectors, **filler}.items()
    ]
    (tmp_path / "glove.6d.txt").write_text("\n".join(lines) + "\n")
    kept = engine.add_vectors(tmp_path / "glove.6d.txt")
    params = {k: v for k, v in SMALL.items() if k != "embedding_dim"} | {"vectors_trainable": False}
    run_id = trained(engine, mood, vectors=kept.id, params=params)
    bundle = Bundle.load(engine.workspace.bundle_dir(run_id))
    embedding = layer_weights(engine, run_id)["embedding"][0]
    for word, vector in vectors.items():
        np.testing.assert_array_equal(embedding[bundle.vectorizer.vocabulary_[word]], vector)
    result = engine.result(run_id)
    vocabulary = bundle.vectorizer.vocabulary_
    assert result.vectors.coverage_vocabulary == round(8 / len(vocabulary), 4)
    assert 0 < result.vectors.coverage_tokens < 1
    assert result.parameters.frozen == embedding.size
    preview = engine.vectors_coverage(mood, kept.id, engine.run(run_id).spec.fixed())
    assert preview.covered == 8


def test_self_trained_vectors_cover_the_vocabulary_and_repeat_with_the_seed(parent):
    engine, _, mood = parent
    first = trained(engine, mood, vectors="self", seed=5)
    again = trained(engine, mood, vectors="self", seed=5)
    assert engine.result(first).vectors.coverage_vocabulary == 1.0
    assert same(
        layer_weights(engine, first)["embedding"], layer_weights(engine, again)["embedding"]
    )


@pytest.mark.parametrize(
    "spec, says",
    [
        ({"parent": "no-such-run"}, "There is no run 'no-such-run' to start from"),
        ({"parent": "PARENT", "grid": {"units": [4, 8]}}, "units comes from the saved model"),
        ({"parent": "PARENT", "params": {**SMALL, "units": 12}}, "units is 6 in run PARENT's model"),
        ({"parent": "PARENT", "vectors": "self"}, "Start from a saved model or from word vectors, not both"),
        ({"freeze": "all"}, "--freeze needs a model to start from"),
        ({"parent": "PARENT", "freeze": "recurrent_2"}, "Run PARENT's model has 1 recurrent layer(s), so there is no recurrent_2 to freeze"),
        ({"parent": "PARENT", "freeze": "head,embedding"}, "'head' is not something to freeze"),
        ({"params": {"vectors_trainable": False}}, "vectors_trainable = false keeps word vectors"),
        ({"fine_tune_epochs": 2}, "Fine-tuning continues a model started from"),
    ],
)  # fmt: skip
def test_starting_points_that_cannot_work_get_one_sentence(parent, spec, says):
    engine, parent_id, mood = parent
    spec = {k: v.replace("PARENT", parent_id) if isinstance(v, str) else v for k, v in spec.items()}
    with pytest.raises(UserError) as error:
        engine.train(ExperimentSpec(mood, cv=0, **{"params": SMALL, **spec}))
    assert str(error.value).startswith(says.replace("PARENT", parent_id))


def test_a_parent_on_the_same_data_must_share_the_test_split(parent):
    """Another seed or test share would test on texts the parent trained on."""
    engine, parent_id, _ = parent
    spam = engine.run(parent_id).dataset.id
    with pytest.raises(UserError, match=rf"^Run {parent_id} trained on this data set with"):
        engine.train(ExperimentSpec(spam, params=SMALL, cv=0, seed=7, parent=parent_id))


def test_a_parent_with_an_unfinished_child_is_kept(parent):
    """A cancelled child reads its parent's model when resumed, so the parent stays."""
    from lstm_core.execution.training import submit_run

    engine, parent_id, mood = parent
    child = submit_run(engine.workspace, ExperimentSpec(mood, cv=0, parent=parent_id))
    engine.cancel(child)
    with pytest.raises(UserError, match=rf"is the starting point of run {child}"):
        engine.delete_run(parent_id)
    assert engine.has_model(parent_id)
    engine.delete_run(child)
    assert engine.lineage(trained(engine, mood, parent=parent_id)) == [parent_id]


def test_a_transferred_run_reports_the_longest_of_its_own_texts(parent):
    """The finished run once said 'longest 53': the saved model's data set, not its own."""
    engine, parent_id, _ = parent
    texts, labels = toy_texts(seed=2)
    short = pd.DataFrame(
        {"text": [" ".join(t.split()[:2]) for t in texts], "label": labels}
    )  # at most two words each
    child = engine.freeze_dataset(short, "text", "label", "short.csv")[0]
    child_id = trained(engine, child.id, parent=parent_id)
    assert engine.result(parent_id).longest_text_tokens > 2
    assert engine.result(child_id).longest_text_tokens == 2
