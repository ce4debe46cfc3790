"""Demo links (`?demo=RUN`): one model's Predict for an audience, through Streamlit's AppTest.

What an audience must not see is checked by what the page draws: no navigation, no other
run, nothing that trains, renames or deletes; a link that cannot be shown is one sentence.
"""

from __future__ import annotations

import time

from conftest import ROOT, TINY, runs_on_two_data_sets
from streamlit.testing.v1 import AppTest

from dashboard.widgets import md
from lstm_core.api import Engine, ExperimentSpec
from lstm_core.jobs import queue

WRITING_WORDS = ("Delete", "Launch", "Cancel", "Resume", "Rename", "Name and note", "Export")


def demo_app(run_id: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["demo"] = run_id
    return app.run()


def everything_drawn(app: AppTest) -> str:
    """Every text the page shows, widget labels and options included."""
    parts = [str(getattr(e, "value", "")) for e in app.main]
    for widget in (*app.selectbox, *app.text_input, *app.button, *app.radio):
        parts += [widget.label, *map(str, getattr(widget, "options", []) or [])]
    return " ".join(parts + [repr(e) for e in app.main])


def test_a_demo_link_shows_its_model_and_nothing_to_change_or_leave_by(workspace):
    engine = Engine(workspace.root)
    runs = runs_on_two_data_sets(engine)
    shown, other = runs["spam.csv"], runs["mood.csv"]
    engine.describe_run(shown.id, name="spam filter for class")
    app = demo_app(shown.id)
    assert not app.exception
    assert [t.value for t in app.title] == ["spam filter for class"]
    caption = app.caption[0].value
    assert md("spam.csv") in caption and "labelling texts as ham or spam" in caption, caption
    assert len(app.sidebar) == 0, "a demo shows no navigation and no workspace"
    drawn = everything_drawn(app)
    assert other.id not in drawn and "mood.csv" not in drawn
    assert not [w for w in WRITING_WORDS if w in drawn], drawn

    sentence = "win cash prize now call"
    expected = engine.predict(shown.id, [sentence])[0].label
    app.text_input(key="pred_sentence").input(sentence).run()
    assert not app.exception
    assert f"Predicted label: **{expected}**" in [m.value for m in app.markdown]
    assert "Why this label" in [h.value for h in app.subheader]
    assert "pred_gradient_other" not in [s.key for s in app.selectbox], "no other model"
    drawn = everything_drawn(app)
    assert other.id not in drawn and not [w for w in WRITING_WORDS if w in drawn]
    assert app.query_params["demo"] == shown.id, "the link stays a demo link"


def test_a_demo_link_that_cannot_be_shown_is_one_sentence(workspace):
    engine = Engine(workspace.root)
    run = runs_on_two_data_sets(engine)["spam.csv"]
    cancelled = queue.submit(workspace, ExperimentSpec(run.dataset.id, params=TINY).validated())
    queue.cancel(workspace, cancelled)
    deadline = time.monotonic() + 120
    while not engine.run(cancelled).status.finished and time.monotonic() < deadline:
        time.sleep(0.1)
    hostile = "<b>x</b> [link](http://e.org)"
    cases = {
        "no-such-run": "not in this workspace",
        cancelled: "is cancelled: a demo link shows the model of a completed run. Ask",
        hostile: hostile,
    }
    for run_id, says in cases.items():
        app = demo_app(run_id)
        assert not app.exception, run_id
        assert len(app.error) == 1 and md(says) in app.error[0].value, (run_id, app.error)
        assert len(app.sidebar) == 0 and not app.text_input


def test_the_runs_page_gives_a_completed_runs_demo_link(workspace):
    engine = Engine(workspace.root)
    run = runs_on_two_data_sets(engine)["spam.csv"]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.session_state["run"] = run.id
    app.run().switch_page("pages/runs.py").run()
    assert not app.exception
    links = [c.value for c in app.code if "?demo=" in c.value]
    assert links == [f"/?demo={run.id}"], [c.value for c in app.code]
