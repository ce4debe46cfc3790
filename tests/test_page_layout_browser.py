"""What only a real browser shows: the Errors page's class tags drawn whole, and an
Experiment design that comes back after Launch. Screenshots go to test-artifacts/layout/."""

from __future__ import annotations

import pandas as pd
import pytest
from browser import chromium, dashboard, pick_option, require_browser, settle
from conftest import ROOT, TINY, toy_texts
from test_e2e import choose_values

from lstm_core.api import Engine, ExperimentSpec, RunStatus

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "layout"
# Markup in it must show as typed; long enough to be cut in a third of the page's width.
LONG_LABEL = "<b>urgent</b> offers" + " and more offers" * 8
CHOSEN = ".react-aria-ComboBox [data-tag]"  # a multiselect's tags (a template holds a copy)
# Each chosen tag of a multiselect: its label, whether it lies inside the visible tag area,
# the text shown on hover, whether its text is cut, and whether the label made bold text.
TAGS = """box => [...box.querySelectorAll('.react-aria-ComboBox [data-tag]')].map(tag => {
  const area = tag.closest('[data-testid="stMultiSelectTagsContainer"]').getBoundingClientRect();
  const r = tag.getBoundingClientRect();
  const text = tag.querySelector('[title]');
  return {
    label: tag.getAttribute('aria-label'),
    inside: r.left >= area.left - 1 && r.right <= area.right + 1
      && r.top >= area.top - 1 && r.bottom <= area.bottom + 1,
    hover: text.title,
    cut: text.scrollWidth > text.clientWidth,
    bold: tag.querySelector('b') !== null,
  };
})"""


def chips(page, label: str) -> list[str]:
    """The values a multiselect shows as chosen."""
    field = page.get_by_role("combobox", name=label, exact=True)
    tags = page.locator('[data-testid="stMultiSelect"]').filter(has=field)
    return sorted(tag.get_attribute("aria-label") for tag in tags.locator(CHOSEN).all())


def test_errors_shows_every_class_tag_whole(tmp_path):
    """With a long label beside a short one, every tag of the class filters is in view (a
    long one cut, whole on hover) and markup in a label shows as typed."""
    require_browser()
    engine = Engine(tmp_path / "ws")
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
    frame["label"] = frame["label"].map({"spam": LONG_LABEL, "ham": "ham"})
    dataset = engine.freeze_dataset(frame, "text", "label", "long labels.csv")[0]
    run = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error

    with dashboard(tmp_path / "ws", ARTIFACTS / "server-errors.log") as url, chromium() as new_tab:
        page = new_tab()
        page.goto(f"{url}/errors?run={run.id}")
        filters = page.locator('[data-testid="stHorizontalBlock"]').filter(
            has=page.get_by_text("True class", exact=True)
        )
        filters.wait_for()
        settle(page)
        filters.screenshot(path=str(ARTIFACTS / "errors-class-tags.png"))
        for name in ("True class", "Predicted class"):
            box = page.locator('[data-testid="stMultiSelect"]').filter(
                has=page.get_by_role("combobox", name=name, exact=True)
            )
            tags = {tag["label"]: tag for tag in box.evaluate(TAGS)}
            assert set(tags) == {LONG_LABEL, "ham"}, name
            hidden = [label for label, tag in tags.items() if not tag["inside"]]
            assert not hidden, f"{name}: tags out of view: {hidden}"
            assert tags[LONG_LABEL]["cut"] and tags[LONG_LABEL]["hover"] == LONG_LABEL
            assert not tags["ham"]["cut"]
            assert not any(tag["bold"] for tag in tags.values()), "a label's markup was drawn"


def test_experiment_design_comes_back_after_launch(tmp_path):
    """A design changed from its defaults is still there after Launch went to Runs and the
    person came back through the sidebar."""
    require_browser()
    engine = Engine(tmp_path / "ws")
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
    engine.freeze_dataset(frame, "text", "label", "spam.csv")

    with dashboard(tmp_path / "ws", ARTIFACTS / "server-launch.log") as url, chromium() as new_tab:
        page = new_tab()
        page.goto(f"{url}/experiment")
        page.get_by_text("Model summary per architecture").wait_for()
        choose_values(page, "units", ["16"])  # the default is 32
        pick_option(page, "Cross-validation folds", "2 folds")
        page.get_by_role("button", name="Launch in the background").click()
        page.get_by_role("heading", name="Runs", level=1).wait_for()
        settle(page)
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Experiment").click()
        page.get_by_text("Model summary per architecture").wait_for()
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "experiment-after-launch.png"))
        assert chips(page, "units") == ["16"]
        cv = page.get_by_role("combobox", name="Cross-validation folds", exact=True)
        assert cv.input_value() == "2 folds"
