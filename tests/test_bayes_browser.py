"""A small TPE run launched from the Experiment page in a real browser, down to its
optimization history on the Runs page. Screenshots go to test-artifacts/bayes/."""

from __future__ import annotations

import pandas as pd
import pytest
from browser import chromium, dashboard, pick_option, require_browser, settle
from conftest import ROOT, toy_texts

from lstm_core.api import Engine, RunStatus

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "bayes"


def test_a_small_tpe_run_shows_its_optimization_history(tmp_path):
    from playwright.sync_api import expect

    require_browser()
    texts, labels = toy_texts()
    engine = Engine(tmp_path / "ws")
    engine.freeze_dataset(
        pd.DataFrame({"text": texts, "label": labels}), "text", "label", "toy.csv"
    )
    with dashboard(tmp_path / "ws", ARTIFACTS / "server.log") as url, chromium() as new_tab:
        page = new_tab()
        page.goto(f"{url}/experiment")
        page.get_by_text("Model summary per architecture").wait_for()
        page.get_by_text("Bayesian: TPE", exact=True).click()
        settle(page)
        page.get_by_text("Search between bounds").wait_for()
        budget = page.get_by_label("Budget: candidates to try")
        budget.fill("3")
        budget.press("Enter")
        settle(page)
        pick_option(page, "Cross-validation folds", "none: one validation split")
        candidates = page.locator('[data-testid="stMetric"]').filter(
            has=page.get_by_text("Candidates", exact=True)
        )
        expect(candidates).to_contain_text("3")
        page.screenshot(path=str(ARTIFACTS / "01-tpe-designed.png"), full_page=True)
        page.get_by_role("button", name="Launch in the background").click()

        page.get_by_text("Optimization history").first.wait_for()
        # Drawn once the first candidate has its score. While the finished run's view
        # replaces the live one, the live chart can linger, hidden, for a moment.
        page.locator(".js-plotly-plot").filter(has_text="Best Value", visible=True).first.wait_for()
        (run,) = engine.runs()
        page.get_by_text("Best:").wait_for()
        expect(page.locator(".js-plotly-plot").filter(has_text="Best Value")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "02-history.png"), full_page=True)
        assert engine.run(run.id).status == RunStatus.COMPLETED
        assert engine.run(run.id).spec.search == "tpe"
        assert len(engine.search_history(run.id).trials) == 3
