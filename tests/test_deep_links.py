"""Every dashboard URL is an entry point, also as the first request to a fresh server.

Streamlit starts a server whose app.py has a `pages/` folder beside it in its old multipage
mode until app.py runs once; these tests open deep links on freshly started servers and
check that the app's own navigation and the item the URL names appear, also after a reload.
Screenshots go to test-artifacts/deep-links/.
"""

from __future__ import annotations

import shutil

import pytest
from browser import chromium, dashboard, require_browser
from conftest import ROOT

from lstm_core.api import Engine, RunStatus

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "deep-links"
FIXTURE = ROOT / "tests" / "fixtures" / "workspace_v1"
NAVIGATION = {  # title: Material icon, as app.py declares them; a link's text is icon + title
    "Home": "home",
    "Data": "description",
    "Experiment": "science",
    "Runs": "monitoring",
    "Compare": "compare_arrows",
    "Errors": "rule",
    "Predict": "chat",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A workspace with runs of the first schema: two completed with models, one not."""
    require_browser()
    root = shutil.copytree(FIXTURE, tmp_path_factory.mktemp("deep-links") / "ws")
    assert len(models(Engine(root))) == 2
    return root


def models(engine: Engine) -> list[str]:
    """Ids of the runs that Predict offers, newest first."""
    return [
        r.id for r in engine.runs() if r.status == RunStatus.COMPLETED and engine.has_model(r.id)
    ]


@pytest.fixture(scope="module")
def new_tab():
    with chromium() as opener:
        yield opener


# Every text the sidebar's links ever read, recorded from the page's first mutation on.
RECORD_SIDEBAR_LINKS = """
window.sidebarLinksSeen = [];
new MutationObserver(() => {
  const links = [...document.querySelectorAll('[data-testid="stSidebar"] a')]
    .map(link => link.textContent.trim()).filter(Boolean);
  const seen = window.sidebarLinksSeen;
  if (links.length && JSON.stringify(links) !== JSON.stringify(seen[seen.length - 1])) {
    seen.push(links);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def expect_app_navigation(tab, title: str) -> None:
    """The app's own sidebar: its titles and icons in order, its workspace panel, the page's title.

    (Streamlit's automatic list would read "app, compare, data, ..." without icons.)
    """
    from playwright.sync_api import expect

    expect(tab.get_by_role("heading", name=title, level=1)).to_be_visible()
    links = tab.locator('[data-testid="stSidebar"] a')
    expect(links).to_have_text([icon + name for name, icon in NAVIGATION.items()])
    expect(
        tab.locator('[data-testid="stSidebar"]').get_by_text("Workspace", exact=True)
    ).to_be_visible()


def expect_choice(tab, label: str, text: str) -> None:
    from playwright.sync_api import expect

    expect(tab.get_by_role("combobox", name=label, exact=True)).to_have_value(_containing(text))


def _containing(text: str):
    import re

    return re.compile(re.escape(text))


def test_cold_link_to_a_run_shows_the_app_and_that_run(home, new_tab):
    runs = Engine(home).runs()
    older = runs[-1].id
    assert older != runs[0].id, "the named run must not be the one shown by default"
    with dashboard(home, ARTIFACTS / "server-runs.log") as url:
        tab = new_tab()
        tab.goto(f"{url}/runs?run={older}")
        expect_app_navigation(tab, "Runs")
        expect_choice(tab, "Run", older)
        tab.screenshot(path=str(ARTIFACTS / "runs-cold.png"), full_page=True)
        tab.reload()
        expect_app_navigation(tab, "Runs")
        expect_choice(tab, "Run", older)
        assert f"run={older}" in tab.url


def test_cold_link_to_predict_and_to_a_dataset(home, new_tab):
    engine = Engine(home)
    newest, dataset = models(engine)[0], engine.datasets()[0]
    with dashboard(home, ARTIFACTS / "server-predict.log") as url:
        tab = new_tab()
        tab.goto(f"{url}/predict")
        expect_app_navigation(tab, "Predict")
        expect_choice(tab, "Model", newest)
        tab.screenshot(path=str(ARTIFACTS / "predict-cold.png"), full_page=True)
        tab.reload()
        expect_app_navigation(tab, "Predict")
    with dashboard(home, ARTIFACTS / "server-experiment.log") as url:
        tab = new_tab()
        tab.goto(f"{url}/experiment?dataset={dataset.id}")
        expect_app_navigation(tab, "Experiment")
        expect_choice(tab, "Dataset", dataset.id)


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("", "Recurrent text classification workbench"),
        ("data", "Data"),
        ("compare", "Compare"),
        ("errors", "Errors"),
    ],
)
def test_every_other_page_opens_cold_with_the_app_navigation(home, new_tab, path, title):
    with dashboard(home, ARTIFACTS / f"server-{path or 'home'}.log") as url:
        tab = new_tab()
        tab.goto(f"{url}/{path}")
        expect_app_navigation(tab, title)


@pytest.mark.parametrize("path", ["", "predict"])
def test_first_load_never_lists_page_files(home, new_tab, path):
    """From the first change to the page on, a fresh server's sidebar links read only the
    app's titles, never Streamlit's list of the files in pages/."""
    titles = [icon + name for name, icon in NAVIGATION.items()]
    with dashboard(home, ARTIFACTS / f"server-first-{path or 'home'}.log") as url:
        tab = new_tab()
        tab.add_init_script(RECORD_SIDEBAR_LINKS)
        tab.goto(f"{url}/{path}")
        expect_app_navigation(tab, "Predict" if path else "Recurrent text classification workbench")
        seen = tab.evaluate("window.sidebarLinksSeen")
    assert seen and all(links == titles[: len(links)] for links in seen), seen


def test_link_to_a_deleted_run_says_so_and_shows_the_newest(home, new_tab):
    from playwright.sync_api import expect

    engine = Engine(home)
    gone = models(engine)[-1]
    engine.delete_run(gone)
    newest_run, newest_model = engine.runs()[0].id, models(engine)[0]
    with dashboard(home, ARTIFACTS / "server-deleted.log") as url:
        for path, title, label, newest in (
            (f"/runs?run={gone}", "Runs", "Run", newest_run),
            (f"/predict?run={gone}", "Predict", "Model", newest_model),
        ):
            tab = new_tab()
            tab.goto(url + path)
            expect_app_navigation(tab, title)
            expect(tab.get_by_text(f"Run {gone} is not in this workspace")).to_be_visible()
            expect_choice(tab, label, newest)
            tab.screenshot(path=str(ARTIFACTS / f"deleted-{label.lower()}.png"), full_page=True)
