"""HTML in texts: found and counted where data is looked at, stripped when the design says so
(by default where many texts hold some), and stripped the same way by the saved model."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import toy_texts

from lstm_core.api import Engine, ExperimentSpec
from lstm_core.cli.main import main
from lstm_core.data.markup import has_markup, markup_share, strip_markup
from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.models.bundle import Bundle

ROOT = Path(__file__).resolve().parents[1]
OLD_WORKSPACE = Path(__file__).parent / "fixtures" / "workspace_v1"


def html_reviews() -> pd.DataFrame:
    """The toy texts as a scraper leaves them: four words, a `<br /><br />` in the middle."""
    texts, labels = toy_texts()
    rng = np.random.default_rng(1)
    reviews = []
    for label in labels:
        words = list(rng.choice(["win", "prize", "cash", "claim"] if label == "spam" else
                                ["lunch", "home", "later", "mum"], size=4))  # fmt: skip
        reviews.append(" ".join(words[:2]) + "<br /><br />" + " ".join(words[2:]))
    return pd.DataFrame({"text": reviews, "label": labels}, dtype="str")


@pytest.mark.parametrize(
    "text",
    [
        "Great film<br /><br />See it.",
        "<p>Fine</p>",
        '<a href="http://x.test/?a=1&b=2">a link</a>',
        "Tom &amp; Jerry",
        "it&#39;s &quot;good&quot;",
        "<!-- hidden --> shown",
    ],
)
def test_tags_and_entities_are_markup(text):
    assert has_markup(text)


@pytest.mark.parametrize(
    "text",
    ["a < b and c > d", "I <3 you <3", "AT&T and R&D", "this &notation", "mail <me@x.test>"],
)
def test_hearts_comparisons_and_ampersands_are_not(text):
    assert not has_markup(text)
    assert strip_markup(text) == text


def test_stripped_tags_keep_the_words_apart_and_entities_become_characters():
    keep = SequenceVectorizer(strip_punctuation=False)
    strip = SequenceVectorizer(strip_punctuation=False, strip_html=True)
    text = "Tom &amp; Jerry<br />rocks"
    assert keep.tokenize(text) == ["tom", "&", "amp", ";", "jerry", "<", "br", "/", ">", "rocks"]
    assert strip.tokenize(text) == ["tom", "&", "jerry", "rocks"]


def test_the_share_of_texts_with_markup_names_an_example_and_suggests_stripping():
    texts = ["good<br />film"] * 31 + ["plain text"] * 69 + [None, float("nan"), "  "]
    share = markup_share(texts)
    assert share.describe() == (
        "31% of texts (31 of 100) hold HTML tags or entities such as <br />"
    )
    assert share.suggest_strip
    few = markup_share(["fish &amp; chips"] * 4 + ["plain text"] * 96)
    assert few.example == "&amp;" and not few.suggest_strip
    assert not markup_share(["a < b", "<3"]).with_markup


def test_validate_says_how_many_texts_hold_html_and_how_train_removes_them(tmp_path, capsys):
    path = tmp_path / "reviews.csv"
    html_reviews().to_csv(path, index=False)
    args = ["validate", str(path), "--text", "text", "--label", "label"]
    assert main(args) == 0
    assert (
        "note: 100% of texts (60 of 60) hold HTML tags or entities such as <br />; train "
        "--strip-html removes them (its default for this file)." in capsys.readouterr().out
    )
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["markup"] == {
        "texts": 60,
        "with_markup": 60,
        "example": "<br />",
        "with_tags": 60,
        "share": 1.0,
    }


def test_training_strips_html_by_default_and_the_saved_model_cleans_typed_text(
    workspace, tmp_path, capsys
):
    """Every text is four words and two `<br />`: stripped, the auto length is 4, not 6,
    and neither the vocabulary nor a typed sentence's tokens hold 'br'."""
    path = tmp_path / "reviews.csv"
    html_reviews().to_csv(path, index=False)
    train = ["train", str(path), "--text", "text", "--label", "label", "--arch", "lstm",
             "--set", "units=4", "--set", "embedding_dim=4", "--epochs", "1", "--cv", "0",
             "--n-jobs", "1", "--json"]  # fmt: skip
    runs, notes = {}, {}
    for flags in ((), ("--keep-html",)):
        assert main([*train, *flags]) == 0
        out, notes[flags] = capsys.readouterr()
        runs[flags] = json.loads(out.strip().splitlines()[-1])
        assert runs[flags]["status"] == "completed"
    assert "such as <br />; they are removed before tokenizing (--keep-html" in notes[()]
    assert "they are read as words (--strip-html removes them)." in notes[("--keep-html",)]
    stripped, kept = runs[()], runs[("--keep-html",)]
    assert (stripped["sequence_length"], kept["sequence_length"]) == (4, 6)

    engine = Engine()
    assert engine.run(stripped["run_id"]).spec.fixed()["strip_html"] is True
    typed = "win cash<br /><br />prize &amp; claim"
    clean, raw = (engine.predict(r["run_id"], [typed])[0] for r in (stripped, kept))
    assert (clean.words, clean.unknown_words) == (4, [])
    assert raw.words == 7 and "amp" in raw.unknown_words
    explained = engine.explain(stripped["run_id"], typed)
    assert [t.token for t in explained.tokens] == ["win", "cash", "prize", "claim"]
    bundle = Bundle.load(engine.workspace.bundle_dir(stripped["run_id"]))
    assert "br" not in bundle.vectorizer.vocabulary_
    assert engine.reads(stripped["run_id"], typed).split() == ["win", "cash", "prize", "&", "claim"]
    assert "br" in Bundle.load(engine.workspace.bundle_dir(kept["run_id"])).vectorizer.vocabulary_
    script = engine.export_code(stripped["run_id"], tmp_path / "train_run.py")
    assert runpy.run_path(str(script))["tokenize"](typed) == ["win", "cash", "prize", "claim"]

    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/predict.py").run()
    (model,) = [s for s in app.selectbox if s.label == "Model"]
    model.set_value(stripped["run_id"]).run()
    app.text_input(key="pred_sentence").input(typed).run()
    captions = [c.value.replace("\\", "") for c in app.caption]
    assert any(c.endswith("it reads: win cash prize & claim") for c in captions), captions
    (tokens,) = [h.proto.body for h in app.get("html") if "coloured-tokens" in h.proto.body]
    assert ">cash</span>" in tokens and ">br</span>" not in tokens
    assert not app.exception


def test_a_model_saved_before_the_setting_keeps_tags_and_can_be_started_from(tmp_path):
    engine = Engine(shutil.copytree(OLD_WORKSPACE, tmp_path / "ws"))
    run = next(r for r in engine.runs() if engine.has_model(r.id))
    assert run.spec.fixed()["strip_html"] is False
    (prediction,) = engine.predict(run.id, ["win <b>cash</b>"])
    assert prediction.words == 4  # "b" twice: read as words, as it was trained
    spec = ExperimentSpec(
        run.dataset.id, parent=run.id, seed=run.spec.seed, test_size=run.spec.test_size
    )
    assert engine.resolve(spec).spec.params["strip_html"] is False


def test_an_old_spec_without_the_setting_loads_with_html_kept():
    old = {"dataset_id": "d", "params": {"units": 4, "lowercase": True}, "grid": {}}
    spec = ExperimentSpec.from_dict(old).validated()
    assert spec.fixed()["strip_html"] is False
    assert spec.candidates()[0]["strip_html"] is False


def test_experiment_offers_strip_html_on_by_default_only_where_texts_hold_html(workspace):
    from streamlit.testing.v1 import AppTest

    engine = Engine(workspace.root)
    html_id = engine.freeze_dataset(html_reviews(), "text", "label", "reviews.csv")[0].id
    texts, labels = toy_texts()
    plain = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
    plain_id = engine.freeze_dataset(plain, "text", "label", "plain.csv")[0].id
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/experiment.py").run()
    app.selectbox(key="dataset_choice").set_value(html_id).run()
    assert app.multiselect(key="exp_strip_html").value == [True]
    captions = [c.value.replace("\\", "") for c in app.caption]
    assert (
        "100% of texts (60 of 60) hold HTML tags or entities such as <br />; stripping them "
        "is on by default for this data." in captions
    )
    app.selectbox(key="dataset_choice").set_value(plain_id).run()
    assert app.multiselect(key="exp_strip_html").value == [False]
    assert not app.exception


def test_data_page_says_the_share_of_texts_with_html_and_the_shorter_auto_length(
    workspace, tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from dashboard import widgets

    path = tmp_path / "reviews.csv"
    reviews = html_reviews()
    reviews.loc[:, "text"] = reviews["text"] + " &amp; more"
    reviews.to_csv(path, index=False)
    monkeypatch.setitem(widgets.SAMPLES, "Reviews with HTML", path)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_sample").set_value("Reviews with HTML").run()
    assert [i.value.replace("\\", "") for i in app.info] == [
        "100% of texts (60 of 60) hold HTML tags or entities such as <br />; the Experiment "
        "page's 'strip HTML' setting (under Text) removes them and is on for this data: the "
        "auto length becomes 5 words, not 8."
    ]
    assert not app.exception
