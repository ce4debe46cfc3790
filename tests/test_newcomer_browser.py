"""What a newcomer met in Chromium, checked there: Compare never mixes two data sets, a
finished run's label changes without a reload, a run can be deleted, and Predict answers
while one types, warning when no word is known. Screenshots go to test-artifacts/newcomer/.
"""

from __future__ import annotations

import re

import pytest
from browser import chromium, dashboard, pick_option, require_browser, settle
from conftest import ROOT, runs_on_two_data_sets, tiny_spec

from lstm_core.api import Engine

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "newcomer"
RUN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Two data sets (spam / ham and sad / glad on the same toy texts), a completed run each."""
    require_browser()
    home = tmp_path_factory.mktemp("newcomer")
    return home, runs_on_two_data_sets(Engine(home))


def shot(tab, name: str) -> None:
    settle(tab)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_newcomer_compares_follows_deletes_and_predicts(workspace):
    from playwright.sync_api import expect

    home, runs = workspace
    engine = Engine(home)
    spam, mood = runs["spam.csv"], runs["mood.csv"]
    with dashboard(home, ARTIFACTS / "server.log") as url, chromium() as new_tab:
        tab = new_tab()

        # Compare starts with the newest run's data set and shows only its runs
        tab.goto(f"{url}/compare")
        expect(tab.get_by_role("heading", name="Compare", level=1)).to_be_visible()
        titles = tab.locator(".js-plotly-plot .gtitle")
        expect(titles.filter(has_text=mood.id)).to_have_count(1)
        expect(titles.filter(has_text=spam.id)).to_have_count(0)
        shot(tab, "compare-mood")
        pick_option(tab, "Data set", f"{spam.dataset.describe()} · 1 completed run(s)")
        expect(titles.filter(has_text=spam.id)).to_have_count(1)
        expect(titles.filter(has_text=mood.id)).to_have_count(0)
        shot(tab, "compare-spam")

        # a run started in the background: its label says it finished, without a reload
        queued = engine.submit(tiny_spec(spam.dataset.id, epochs=2))
        tab.goto(f"{url}/runs?run={queued.id}")
        picker = tab.get_by_role("combobox", name="Run", exact=True)
        expect(picker).to_have_value(re.compile(rf"^{queued.id} · spam\.csv.*· (queued|running)$"))
        shot(tab, "runs-running")
        expect(picker).to_have_value(
            re.compile(rf"^{queued.id} · .*· completed$"), timeout=RUN_TIMEOUT_MS
        )
        shot(tab, "runs-finished-label")
        curves_picker = tab.get_by_role("combobox", name="Learning curves of")
        curves_picker.scroll_into_view_if_needed()
        expect(
            tab.locator(".js-plotly-plot .legendtext").filter(has_text="refit")
        ).not_to_have_count(0)
        shot(tab, "runs-learning-curves")  # a line per candidate with its fold band, the refit

        # "Run again" opens its design in Experiment
        tab.get_by_role("button", name="Run again").click()
        expect(tab.get_by_role("heading", name="Experiment", level=1)).to_be_visible()
        expect(tab.get_by_role("combobox", name="Cross-validation folds")).to_have_value("2 folds")
        shot(tab, "experiment-run-again")
        tab.goto(f"{url}/runs?run={queued.id}")
        expect(picker).to_have_value(re.compile(rf"^{queued.id} · .*· completed$"))

        # deleting it, after the confirmation
        tab.get_by_role("button", name="Delete this run").click()
        tab.get_by_role("button", name="Delete", exact=True).click()
        expect(picker).not_to_have_value(re.compile(queued.id))
        assert queued.id not in {r.id for r in engine.runs()}
        shot(tab, "runs-deleted")

        # Predict answers as one types, and says when no word is known
        tab.goto(f"{url}/predict?run={spam.id}")
        field = tab.get_by_role("textbox", name="Type a sentence")
        expect(field).to_be_visible(timeout=120_000)  # the server loads TensorFlow first
        expect(field).to_have_attribute("placeholder", re.compile("label as ham or spam$"))
        field.press_sequentially("zzzz qqqq", delay=40)  # no Enter
        warning = tab.get_by_text("None of these words is in the model's vocabulary")
        expect(warning).to_be_visible()
        shot(tab, "predict-unknown-words")
        field.fill("")
        field.press_sequentially("win cash prize now", delay=40)
        expect(tab.get_by_text("Predicted label:")).to_be_visible()
        expect(warning).to_have_count(0)
        shot(tab, "predict-as-you-type")

        # the saved datasets, each with a name and a note that can be changed
        tab.goto(f"{url}/data")
        tab.get_by_text("Saved datasets (2)").click()
        expect(tab.get_by_role("button", name="Name and note")).to_be_visible()
        shot(tab, "data-saved-datasets")
