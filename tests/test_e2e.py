"""The headline flow in a real browser: Debian's Chromium, driven by Playwright, against
`streamlit run app.py` on a free port with its own workspace.

Screenshots and step timings go to test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import time

import pytest
from browser import chromium, click_option, dashboard, pick_option, require_browser, settle
from conftest import ROOT, SAMPLE_SMS, SPAM_CSV

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
PRIZE_TEXT = (
    "WINNER!! You have been selected to receive a £1000 cash prize. Call 09061701461 now to claim."
)
ORDINARY_TEXT = "Are we still meeting for lunch tomorrow? I'll be at the station around noon."
SCRIPT_TEXT = "<script>window.__injected = 1</script> hello there"
HTML_LABEL = "<b>spam</b>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` with a fresh workspace."""
    require_browser()
    home = tmp_path_factory.mktemp("e2e-workspace")
    with dashboard(home, ARTIFACTS / "server.log", warm=True) as url:
        yield url, home


@pytest.fixture(scope="module")
def page(server):
    with chromium() as new_tab:
        yield new_tab()


class Steps:
    """Times each step and saves a screenshot at its end."""

    def __init__(self, page):
        self.page, self.timings, self.started = page, {}, time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.started, 1)
        self.started = now
        self.page.screenshot(
            path=str(ARTIFACTS / f"{len(self.timings):02d}-{name}.png"), full_page=True
        )

    def save(self) -> None:
        (ARTIFACTS / "timings.json").write_text(json.dumps(self.timings, indent=2))
        print("\nstep timings (s):", json.dumps(self.timings))


def choose_values(page, label: str, values: list[str]) -> None:
    """Replace a multiselect's selection (clear it, then type and pick each value), and check
    that exactly those values stuck: a rerun can redraw the widget under a click."""
    field = page.get_by_role("combobox", name=label, exact=True)
    box = page.locator('[data-testid="stMultiSelect"]').filter(has=field)
    chips = box.locator(".react-aria-ComboBox [data-tag]")

    def chosen() -> list[str]:
        return sorted(chip.get_attribute("aria-label") for chip in chips.all())

    for _ in range(5):
        settle(page)
        if chosen():
            box.get_by_role("button", name="Clear all").click()
            continue
        for value in values:
            click_option(page, field, value)
        page.keyboard.press("Escape")
        settle(page)
        if chosen() == sorted(values):
            return
    raise AssertionError(f"could not choose {values} in {label!r}: {chosen()}")


def chart_points(page) -> int:
    """Points drawn in the learning-curve chart (read from Plotly's own data)."""
    return page.evaluate(
        "() => { const plot = document.querySelector('.js-plotly-plot');"
        " return plot && plot.data ? plot.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0; }"
    )


def test_headline_flow_in_a_real_browser(server, page, tmp_path):
    from playwright.sync_api import expect

    url, home = server
    steps = Steps(page)
    data_file = SPAM_CSV if SPAM_CSV.exists() else SAMPLE_SMS
    text_column, label_column = ("v2", "v1") if data_file == SPAM_CSV else ("message", "label")

    # 1. upload the file through the uploader; the report names the encoding
    page.goto(url)
    page.get_by_role("button", name="Upload a file").click()
    page.get_by_text("Where is the data?").wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        str(data_file)
    )
    page.get_by_text("How the file was read").wait_for()
    report = (
        page.locator('[data-testid="stMarkdownContainer"]')
        .filter(has_text="decoded as")
        .inner_text()
    )
    assert "cp1252" in report or "latin-1" in report
    for label, expected in (("Text column", text_column), ("Label column", label_column)):
        assert page.get_by_role("combobox", name=label).input_value() == expected
    page.get_by_role("button", name="Use these columns for experiments").click()
    page.get_by_text("labelled texts as dataset").wait_for()
    steps.done("data-loaded")

    # 2. a small grid: LSTM and GRU, units 8 and 16, 2 epochs, 2 folds; launch
    page.get_by_role("link", name="Design an experiment").click()
    page.get_by_text("Model summary per architecture").wait_for()
    choose_values(page, "Architectures (each one is a value of the grid)", ["LSTM", "GRU"])
    choose_values(page, "units", ["8", "16"])
    page.get_by_text("Training", exact=True).click()
    settle(page)
    choose_values(page, "epochs", ["2"])
    pick_option(page, "Cross-validation folds", "2 folds")
    fits = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Fits", exact=True))
    expect(fits).to_contain_text("9")  # (2 architectures x 2 unit sizes) x 2 folds + the refit
    steps.done("grid-designed")
    page.get_by_role("button", name="Launch in the background").click()

    # 3. the learning curves appear and gain points while running; then the results
    page.locator(".js-plotly-plot").first.wait_for()
    first = chart_points(page)
    assert first > 0
    steps.done("curves-appear")

    # 6. a reload in the middle of the run lands on the same run
    from lstm_core.store.workspace import Workspace

    (run,) = Workspace(home).store.list_runs()
    page.reload()
    page.get_by_text("fits done").wait_for()
    assert run.id in page.get_by_role("combobox", name="Run", exact=True).input_value()
    steps.done("reloaded-mid-run")

    grown = (
        "() => { const p = document.querySelector('.js-plotly-plot');"
        f" return p && p.data && p.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) > {first}; }}"
    )
    page.wait_for_function(grown)
    assert page.get_by_text("fits done").count(), (
        "the chart gained points while the run was still running"
    )
    steps.done("curves-grow")
    page.get_by_text("Best:").wait_for()
    matrices = page.locator(".js-plotly-plot").filter(has_text="predicted")
    expect(matrices).to_have_count(2)
    expect(matrices.nth(0)).to_contain_text("Recurrent model")
    expect(matrices.nth(1)).to_contain_text("TF-IDF baseline")
    steps.done("run-completed")

    # 4. the compare page shows both architectures with scores
    page.get_by_role("link", name="Compare").click()
    page.get_by_text("Best candidate per architecture").wait_for()
    bars = page.locator(".js-plotly-plot").filter(has_text="Best candidate per architecture")
    assert "LSTM" in bars.inner_text() and "GRU" in bars.inner_text()
    steps.done("compare")

    # 5. live predictions
    page.get_by_role("link", name="Predict").click()
    sentence = page.get_by_role("textbox", name="Type a sentence")
    sentence.fill(PRIZE_TEXT)
    sentence.press("Enter")
    page.get_by_text("Predicted label:").wait_for()
    page.wait_for_function("() => document.body.innerText.includes('Predicted label: spam')")
    steps.done("predict-spam")
    sentence.fill(ORDINARY_TEXT)
    sentence.press("Enter")
    page.wait_for_function("() => document.body.innerText.includes('Predicted label: ham')")
    steps.done("predict-ham")

    # 7. a text holding <script> is shown as literal text and never runs; a label holding
    # HTML is drawn as typed in the class-balance chart, not as bold text
    hostile = tmp_path / "hostile.csv"
    rows = [("ham", SCRIPT_TEXT)] + [("ham", f"plain message {i}") for i in range(12)]
    rows += [(HTML_LABEL, f"win cash prize {i}") for i in range(12)]
    hostile.write_text("label,text\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    page.get_by_role("link", name="Data").click()
    page.get_by_text("My own file").click()  # the reload above began a new session
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(hostile))
    page.get_by_text("One example per class").wait_for()
    page.get_by_text(SCRIPT_TEXT, exact=False).first.wait_for()
    assert page.evaluate("() => window.__injected") is None
    balance = page.locator(".js-plotly-plot").filter(has_text="Class balance")
    expect(balance).to_contain_text(HTML_LABEL)
    bold = balance.locator("svg tspan[style*='bold']", has_text="spam")  # titles are bold
    assert bold.count() == 0, bold.evaluate_all("nodes => nodes.map(n => n.outerHTML)")
    steps.done("script-literal")
    steps.save()
