"""Word vectors uploaded through a real browser (coverage shown, a malformed file refused
in one sentence), then a run started from a saved model, down to its lineage on Runs.
Screenshots go to test-artifacts/transfer/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from browser import chromium, dashboard, require_browser, settle
from conftest import ROOT, toy_spam_run, toy_texts

from lstm_core.api import Engine, RunStatus

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "transfer"


def test_vectors_upload_shows_coverage_and_a_saved_model_starts_a_new_run(tmp_path):
    from playwright.sync_api import expect

    require_browser()
    engine = Engine(tmp_path / "ws")
    parent = toy_spam_run(engine)
    texts, labels = toy_texts()
    moods = np.where(labels == "spam", "sad", "glad")
    engine.freeze_dataset(
        pd.DataFrame({"text": texts, "label": moods}), "text", "label", "mood.csv"
    )
    rng = np.random.default_rng(0)
    words = ["lunch", "home", "later", "mum"]  # 4 of the 16 toy words
    lines = [w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=4)) for w in words]
    (tmp_path / "four.vec").write_text("4 4\n" + "\n".join(lines) + "\n")
    (tmp_path / "broken.txt").write_text(lines[0] + "\nmum 0.1 zero 0.3 0.4\n")

    with (
        dashboard(tmp_path / "ws", ARTIFACTS / "server.log") as url,
        chromium() as new_tab,
    ):
        page = new_tab()
        page.goto(f"{url}/experiment")
        page.get_by_text("Model summary per architecture").wait_for()
        page.get_by_text("Word vectors from a file", exact=True).click()
        settle(page)
        upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        upload.set_input_files(str(tmp_path / "broken.txt"))
        settle(page)
        error = page.locator('[data-testid="stAlert"]').filter(has_text="Line 2 of 'broken.txt'")
        expect(error).to_contain_text("'zero' is not a number")
        expect(page.get_by_text("Traceback")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "01-malformed.png"), full_page=True)

        upload.set_input_files(str(tmp_path / "four.vec"))
        settle(page)
        covered = page.locator('[data-testid="stMetric"]').filter(
            has=page.get_by_text("Vocabulary covered", exact=True)
        )
        expect(covered).to_contain_text("25%")
        page.screenshot(path=str(ARTIFACTS / "02-coverage.png"), full_page=True)

        page.get_by_text("A saved model (transfer learning)", exact=True).click()
        settle(page)
        page.get_by_text("Reused from run").first.wait_for()
        page.get_by_text("Freeze LSTM layer 1").click()
        settle(page)
        table = page.locator('[data-testid="stDataFrame"]').first
        expect(table).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "03-transfer-design.png"), full_page=True)
        page.get_by_role("button", name="Launch in the background").click()
        page.get_by_text("Transfer learning:").first.wait_for(timeout=180_000)
        page.screenshot(path=str(ARTIFACTS / "04-lineage.png"), full_page=True)

    child = next(r for r in engine.runs() if r.spec.parent)
    assert child.status == RunStatus.COMPLETED
    assert (child.spec.parent, child.spec.freeze) == (parent.id, "embedding")
    assert engine.result(child.id).parameters.frozen > 0
