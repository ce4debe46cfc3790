"""Sign-in for a class (docs/SIGN_IN.md), for real: a local OpenID Connect provider
(`oidc-provider-mock`), the dashboard started with secrets pointing at it, and Chromium
signing in and out. Screenshots go to test-artifacts/sign-in/."""

from __future__ import annotations

import re
import secrets
import shutil

import pytest
from browser import chromium, dashboard, require_browser, settle
from conftest import ROOT

from lstm_core.api import Engine, RunStatus

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "sign-in"
FIXTURE = ROOT / "tests" / "fixtures" / "workspace_v1"
ASK = "Sign in (in the sidebar) to rename, note, resume, export or delete this run."


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The dashboard on a workspace with two completed runs, sign-in set up; yields its URL
    and a run with a model."""
    require_browser()
    from oidc_provider_mock import run_server_in_thread

    folder = tmp_path_factory.mktemp("sign-in")
    home = shutil.copytree(FIXTURE, folder / "ws")
    engine = Engine(home)
    run_id = next(
        r.id for r in engine.runs() if r.status == RunStatus.COMPLETED and engine.has_model(r.id)
    )
    with run_server_in_thread() as provider:
        secrets_file = folder / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "workbench"\n'
            'client_secret = "a-class-of-students"\n'
            "server_metadata_url = "
            f'"http://localhost:{provider.server_port}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        options = ("--secrets.files", str(secrets_file))
        with dashboard(home, folder / "streamlit.log", options=options) as url:
            yield url, run_id


@pytest.fixture(scope="module")
def new_tab():
    with chromium() as opener:
        yield opener


def sidebar_button(tab, name: str):
    return tab.locator('[data-testid="stSidebar"]').get_by_role("button", name=name, exact=True)


def test_only_people_who_signed_in_change_runs_and_a_demo_link_stays_open(served, new_tab):
    from playwright.sync_api import expect

    url, run_id = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab = new_tab()
    runs_page = f"{url}/runs?run={run_id}"

    tab.goto(runs_page)
    expect(sidebar_button(tab, "Sign in")).to_be_visible()
    expect(tab.get_by_text(ASK)).to_be_visible()
    for action in ("Delete this run", "Name and note", "Export to MLflow"):
        expect(tab.get_by_role("button", name=action)).to_have_count(0)
    tab.screenshot(path=ARTIFACTS / "1-runs-signed-out.png")

    tab.goto(f"{url}/experiment")
    expect(tab.get_by_text("Sign in (in the sidebar) to launch a run.")).to_be_visible()
    expect(tab.get_by_role("button", name="Launch in the background")).to_have_count(0)

    audience = new_tab()
    audience.goto(f"{url}/?demo={run_id}")
    expect(audience.get_by_role("textbox").first).to_be_visible()
    expect(sidebar_button(audience, "Sign in")).to_have_count(0)
    audience.screenshot(path=ARTIFACTS / "2-demo-link-open.png")

    sidebar_button(tab, "Sign in").click()
    tab.wait_for_url(re.compile(r"/oauth2/authorize"))
    tab.locator('input[name="sub"]').fill("teacher")
    tab.get_by_role("button", name="Authorize").click()
    tab.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    settle(tab)
    expect(tab.get_by_text("Signed in as teacher")).to_be_visible()
    tab.goto(runs_page)
    expect(tab.get_by_role("button", name="Delete this run")).to_be_visible()
    expect(tab.get_by_role("button", name="Name and note")).to_be_visible()
    expect(tab.get_by_text(ASK)).to_have_count(0)
    tab.screenshot(path=ARTIFACTS / "3-runs-signed-in.png")
    tab.goto(f"{url}/experiment")
    expect(tab.get_by_role("button", name="Launch in the background")).to_be_visible()

    sidebar_button(tab, "Sign out").click()
    end_session = tab.get_by_role("button", name="End session")
    end_session.wait_for()  # the provider's own page: it ends its session too
    end_session.click()
    tab.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    settle(tab)
    expect(sidebar_button(tab, "Sign in")).to_be_visible()
    tab.goto(runs_page)
    expect(tab.get_by_text(ASK)).to_be_visible()
    expect(tab.get_by_role("button", name="Delete this run")).to_have_count(0)
    tab.screenshot(path=ARTIFACTS / "4-runs-signed-out-again.png")
