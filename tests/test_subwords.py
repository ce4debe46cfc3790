"""Subword tokens (`tokens=subwords`): byte-pair pieces learnt from the training texts give
a rare or misspelled word known pieces where a word vocabulary reads one unknown word. The
pieces travel with a saved model, cut a typed sentence as in training, show on Predict,
train self-made word vectors, and a run's exported script learns the same ones."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, TINY, toy_texts

from lstm_core.api import Engine, ExperimentSpec, RunStatus
from lstm_core.data.vectorizer import OOV_ID, SequenceVectorizer
from lstm_core.domain.hyperparams import HYPERPARAMETERS, TEXT, VECTORIZER

TRAIN = [
    "my flight was delayed again",
    "flights delayed all day",
    "the delay was awful",
    "great flight thanks",
    "awful service and delays",
    "thanks for the great service",
]
MISSPELLED = "fliiights delaaayed"
SUBWORDS = {**TINY, "tokens": "subwords"}


def pieces(max_tokens: int = 30, **settings) -> SequenceVectorizer:
    return SequenceVectorizer(max_tokens=max_tokens, tokens="subwords", **settings).fit(TRAIN)


def test_tokens_is_a_text_setting_with_words_by_default():
    tokens = HYPERPARAMETERS["tokens"]
    assert (tokens.target, tokens.group, tokens.default) == (VECTORIZER, TEXT, "words")
    assert tokens.choices == ("words", "subwords") and tokens.shown_label() == "tokens"
    assert tokens.coerce(" Subwords ") == "subwords"


def test_a_misspelled_word_gets_known_pieces_where_words_know_nothing():
    words = SequenceVectorizer(max_tokens=30).fit(TRAIN)
    assert words.transform([MISSPELLED])[0].tolist()[:2] == [OOV_ID, OOV_ID]
    vectorizer = pieces()
    cut = vectorizer.tokenize(MISSPELLED)
    assert cut[0] == "f" and cut[-1].startswith("##") and len(cut) > 2
    assert sum(not piece.startswith("##") for piece in cut) == 2, "two words start"
    ids = vectorizer.transform([MISSPELLED])[0]
    assert OOV_ID not in ids[: len(cut)].tolist()
    assert all(piece in vectorizer.vocabulary_ for piece in cut)


def test_pieces_are_learnt_from_the_training_texts_only():
    test_only = "zebra crossing"
    vectorizer = pieces(max_tokens=200)
    assert not [p for p in vectorizer.vocabulary_ if "z" in p or "cross" in p]
    assert "zebra" not in vectorizer.tokenizer_.get_vocab()
    assert OOV_ID in vectorizer.transform([test_only])[0].tolist()
    with_it = SequenceVectorizer(max_tokens=200, tokens="subwords").fit([*TRAIN, test_only])
    assert {"zebra", "crossing"} <= set(with_it.vocabulary_)


def test_every_id_is_in_the_training_rows_and_below_the_vocabulary_size():
    """The classifier sizes its embedding from the largest id of its training rows: a piece
    that only an intermediate merge made (in no training text) must read as unknown."""
    texts, _ = toy_texts(60)
    vectorizer = SequenceVectorizer(max_tokens=40, tokens="subwords").fit(texts)
    rows = vectorizer.transform(texts)
    assert set(np.unique(rows)) - {0, OOV_ID} == set(range(2, vectorizer.vocabulary_size_))
    assert vectorizer.vocabulary_size_ <= 40
    unseen = vectorizer.transform(["quixotic jazz xylophones", MISSPELLED])
    assert unseen.max() < vectorizer.vocabulary_size_


def test_auto_length_counts_pieces():
    vectorizer = pieces(sequence_length="auto", length_percentile=100)
    assert vectorizer.sequence_length_ == max(len(vectorizer.tokenize(t)) for t in TRAIN)
    assert vectorizer.sequence_length_ > max(len(t.split()) for t in TRAIN)


def test_punctuation_pieces_follow_strip_punctuation_and_case_follows_lowercase():
    texts = [*TRAIN, "Great, FLIGHT!", "delayed... again?"]
    kept = SequenceVectorizer(max_tokens=60, tokens="subwords", strip_punctuation=False,
                              lowercase=False).fit(texts)  # fmt: skip
    typed = "Great, FLIGHT!!..."
    assert {",", "!", "."} <= {piece.removeprefix("##") for piece in kept.tokenize(typed)}
    assert [piece for piece in kept.vocabulary_ if piece != piece.lower()], "upper case kept"
    dropped = SequenceVectorizer(max_tokens=60, tokens="subwords").fit(texts)
    assert not [piece for piece in dropped.tokenize(typed) if set(piece) & set(",!.")]
    assert all(piece == piece.lower() for piece in dropped.vocabulary_)


def test_html_is_stripped_before_pieces_are_learnt():
    vectorizer = SequenceVectorizer(max_tokens=60, tokens="subwords", strip_html=True)
    vectorizer.fit([f"<b>{text}</b> &amp;" for text in TRAIN])
    assert not [p for p in vectorizer.vocabulary_ if p.lstrip("#") in ("b", "amp")]


def test_a_saved_vectorizer_cuts_a_typed_sentence_as_in_training():
    vectorizer = pieces(strip_punctuation=False)
    state = json.loads(vectorizer.to_json())
    assert state["params"]["tokens"] == "subwords" and isinstance(state["tokenizer"], str)
    again = SequenceVectorizer.from_json(vectorizer.to_json())
    typed = "Fliiights DELAYED again?! <3 \U0001f600"
    assert again.tokenize(typed) == vectorizer.tokenize(typed)
    np.testing.assert_array_equal(again.transform([typed]), vectorizer.transform([typed]))
    assert again.vocabulary_ == vectorizer.vocabulary_


def test_the_same_texts_learn_the_same_pieces_in_another_process():
    """tokenizers' own continuing-piece prefix learns other merges in another process
    (huggingface/tokenizers#1794); the word-start marker does not."""
    texts, _ = toy_texts(40, seed=3)
    code = (
        "import json, sys; from lstm_core.data.vectorizer import SequenceVectorizer as V; "
        "print(V(max_tokens=60, tokens='subwords').fit(json.load(sys.stdin)).to_json())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(texts.tolist()),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout.strip()
        for seed in (1, 2)
    }
    here = SequenceVectorizer(max_tokens=60, tokens="subwords").fit(texts.tolist()).to_json()
    assert outputs == {here}


def test_a_vectorizer_saved_before_subwords_loads_as_words():
    words = SequenceVectorizer(max_tokens=30).fit(TRAIN)
    state = json.loads(words.to_json())
    del state["params"]["tokens"]
    old = SequenceVectorizer.from_json(json.dumps(state))
    assert old.tokens == "words" and not hasattr(old, "tokenizer_")
    assert old.tokenize(MISSPELLED) == ["fliiights", "delaaayed"]
    np.testing.assert_array_equal(old.transform(TRAIN), words.transform(TRAIN))


def test_the_token_view_joins_the_pieces_of_a_word_and_escapes_them():
    from dashboard.insight_views import CONTINUES, coloured_tokens
    from lstm_core.data import subwords
    from lstm_core.domain.analysis import Explanation, TokenAttribution

    assert CONTINUES == subwords.CONTINUES
    tokens = [TokenAttribution(t, 0.1, 0.1) for t in ("<b", "##>", "fli", "##ghts")]
    drawn = coloured_tokens(Explanation("t", "spam", {"spam": 1.0}, tokens, "ig", 0.0))
    assert "<b" not in drawn and ">&lt;b</span>" in drawn and ">&gt;</span>" in drawn
    assert ">ghts</span>" in drawn and "##" not in drawn.replace('title="##', "")
    assert drawn.count("margin: 2px 0px 2px 2px") == 2, "a word's first piece touches the next"
    assert drawn.count("margin: 2px 2px 2px 0px") == 2, "a continuing piece touches the last"


def split_texts(engine: Engine, run) -> tuple[list[str], list[str]]:
    """The run's held-out texts and its training texts (the other rows of its data set)."""
    from lstm_core.data.datasets import load_dataset

    predictions = engine.test_predictions(run.id)
    rows = {p.row for p in predictions}
    texts = load_dataset(engine.workspace, run.dataset.id).texts
    return [p.text for p in predictions], [t for i, t in enumerate(texts) if i not in rows]


@pytest.fixture(scope="module")
def subword_run(tmp_path_factory):
    """A tiny subword run on the toy texts, plus rows each with a word of its own."""
    texts, labels = toy_texts()
    own = ["zanzibar", "quokka", "yodel", "kumquat", "wombat", "gecko", "jazz", "fjord"]
    frame = pd.DataFrame(
        {
            "text": [*texts, *(f"{word} win cash" for word in own)],
            "label": [*labels, *(["spam", "ham"] * 4)],
        },
        dtype="str",
    )
    engine = Engine(tmp_path_factory.mktemp("subwords") / "ws")
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "spam.csv")
    run = engine.train(ExperimentSpec(dataset.id, params=SUBWORDS, cv=0, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error
    return engine, run


def test_a_subword_run_predicts_and_explains_a_typed_sentence_in_pieces(subword_run):
    from lstm_core.models.bundle import Bundle

    engine, run = subword_run
    assert engine.result(run.id).best_config["tokens"] == "subwords"
    card = engine.load_model(run.id)
    typed = "claim your prizes nowww"
    (prediction,) = engine.predict(run.id, [typed])
    assert prediction.label in card.labels and prediction.words > len(typed.split())
    explanation = engine.explain(run.id, typed)
    vectorizer = Bundle.load(engine.workspace.bundle_dir(run.id)).vectorizer
    assert vectorizer.tokens == "subwords" and card.vocabulary_size == vectorizer.vocabulary_size_
    shown = [t.token for t in explanation.tokens]
    assert shown == vectorizer.tokenize(typed)[: card.sequence_length]
    assert shown[0] == "claim" and any(t.startswith("##") for t in shown)
    assert [t.known for t in explanation.tokens] == [t in vectorizer.vocabulary_ for t in shown]


def test_a_subword_run_learns_its_pieces_from_its_training_split(subword_run):
    from lstm_core.models.bundle import Bundle

    engine, run = subword_run
    held_out, training = split_texts(engine, run)
    vocabulary = Bundle.load(engine.workspace.bundle_dir(run.id)).vectorizer.vocabulary_
    only_held_out = {w for t in held_out for w in t.split()} - {
        w for t in training for w in t.split()
    }
    assert only_held_out, "some word of its own is in the held-out texts"
    assert not only_held_out & set(vocabulary)


def test_the_exported_script_learns_the_runs_pieces_and_vocabulary(subword_run, tmp_path):
    from lstm_core.models.bundle import Bundle

    engine, run = subword_run
    script = engine.export_code(run.id, tmp_path / "train_run.py")
    code = script.read_text(encoding="utf-8")
    assert "from tokenizers import" in code and "lstm_core" not in code
    _, training = split_texts(engine, run)
    exported = runpy.run_path(str(script))
    exported["learn_pieces"](training)
    vectorizer = Bundle.load(engine.workspace.bundle_dir(run.id)).vectorizer
    lengths = [len(exported["tokenize"](t)) for t in training]
    length = max(1, int(np.ceil(np.percentile(lengths, 95))))
    assert length == vectorizer.sequence_length_
    assert exported["fit_vocabulary"](training, length) == vectorizer.vocabulary_
    typed = "claim your prizes nowww"
    assert exported["tokenize"](typed) == vectorizer.tokenize(typed)


def test_a_words_run_exports_no_tokenizers(subword_run):
    from lstm_core.insight.code_export import render

    engine, run = subword_run
    result = engine.result(run.id)
    words = replace(result, best_config={**result.best_config, "tokens": "words"})
    code = render(run, words, "train_run.py", engine.dataset_reading(run.dataset.id))
    assert "tokenizers" not in code and "learn_pieces" not in code
    assert 'return re.findall(r"\\w+" if CONFIG["strip_punctuation"]' in code


def test_self_trained_word_vectors_train_on_the_pieces(subword_run):
    engine, run = subword_run
    again = engine.train(
        ExperimentSpec(run.dataset.id, params=SUBWORDS, cv=0, n_jobs=1, vectors="self")
    )
    assert again.status == RunStatus.COMPLETED, again.error
    assert engine.result(again.id).vectors.coverage_vocabulary == 1.0


def test_the_cli_trains_subwords_and_its_script_runs(tmp_path):
    texts, labels = toy_texts()
    data = tmp_path / "spam.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(data, index=False)
    env = {**os.environ, "LSTM_CORE_HOME": str(tmp_path / "ws")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lstm_core", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path)  # fmt: skip

    design = ["train", str(data), "--text", "text", "--label", "label", "--cv", "0",
              "--epochs", "1", *(f"--set={k}={v}" for k, v in TINY.items() if k != "epochs")]  # fmt: skip
    refused = cli(*design, "--set", "tokens=letters")
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("choose from words, subwords.")
    trained = cli(*design, "--set", "tokens=subwords", "--json")
    assert trained.returncode == 0, trained.stderr
    run_id = json.loads(trained.stdout.strip().splitlines()[-1])["run_id"]
    script = tmp_path / "train_run.py"
    assert cli("export-code", run_id, "--out", str(script)).returncode == 0
    done = subprocess.run([sys.executable, str(script), str(data)], capture_output=True,
                          text=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["classes"] == ["ham", "spam"]


def test_the_experiment_page_offers_subwords(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    texts, labels = toy_texts()
    Engine(tmp_path / "ws").freeze_dataset(
        pd.DataFrame({"text": texts, "label": labels}, dtype="str"), "text", "label", "spam.csv"
    )
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/experiment.py").run()
    picker = app.multiselect(key="exp_tokens")
    assert picker.label == "tokens" and picker.options == ["words", "subwords"]
    picker.set_value(["subwords"]).run()
    assert not app.exception and not app.error
    assert any("The embedding has" in c.value for c in app.caption)
