"""Insight in a real browser: the Errors page's threshold slider moves the confusion matrix,
and Predict colours the tokens of a typed sentence. Screenshots go to
test-artifacts/insight/."""

from __future__ import annotations

import pytest
from browser import chromium, dashboard, require_browser, settle
from conftest import ROOT, TINY, toy_spam_run

from lstm_core.api import Engine

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "insight"


def test_threshold_moves_the_matrix_and_typed_tokens_are_coloured(tmp_path):
    from playwright.sync_api import expect

    require_browser()
    engine = Engine(tmp_path / "ws")
    # Punctuation kept as tokens, so a typed tag reaches the coloured tokens as "<", ">".
    run = toy_spam_run(engine, {**TINY, "epochs": 2, "strip_punctuation": False})

    with dashboard(tmp_path / "ws", ARTIFACTS / "server.log") as url, chromium() as new_tab:
        page = new_tab()
        page.goto(f"{url}/errors?run={run.id}")
        page.get_by_text("Decision threshold").wait_for()
        page.locator('[data-testid="stRadio"]').get_by_text("spam", exact=True).click()
        settle(page)

        def cells(threshold: str) -> str:
            """The matrix drawn for a threshold (while a rerun redraws it, the old chart can
            linger, hidden, beside the new one)."""
            title = f"Held-out texts at threshold {threshold}"
            matrix = page.locator(".js-plotly-plot").filter(has_text=title, visible=True).first
            matrix.wait_for()
            return matrix.evaluate("plot => JSON.stringify(plot.data[0].z)")

        before = cells("0.50")
        page.screenshot(path=str(ARTIFACTS / "01-errors.png"), full_page=True)
        thumb = page.get_by_role("slider").last  # the threshold (the confidence range is first)
        thumb.focus()
        page.keyboard.press("End")  # one key press, one rerun: the slider's top, 0.99
        settle(page)
        after = cells("0.99")
        expected = engine.threshold_metrics(run.id, "spam", 0.99).confusion_matrix
        assert after == str(expected).replace(" ", "")
        assert after != before, "the matrix did not change with the threshold"
        page.screenshot(path=str(ARTIFACTS / "02-threshold.png"), full_page=True)

        page.goto(f"{url}/predict?run={run.id}")
        sentence = page.get_by_role("textbox", name="Type a sentence")
        sentence.fill("win <b>cash now")
        sentence.press("Enter")
        tokens = page.locator('[data-testid="coloured-tokens"] span')
        expect(tokens.first).to_be_visible(timeout=60_000)
        expect(tokens).to_have_text(["win", "<", "b", ">", "cash", "now"])
        expect(page.locator('[data-testid="coloured-tokens"] b')).to_have_count(0)
        page.get_by_text("Inside the network").click()
        page.get_by_text("forget gate f").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "03-why.png"), full_page=True)
