"""Shared by the browser tests: a real `streamlit run app.py` on a free port with its own
workspace, Debian's Chromium driven by Playwright, and a wait for Streamlit's reruns."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 150_000
# How long an assertion waits for what it expects: a fresh server's first run of a page
# imports pandas and Plotly, which took over 5 s (Playwright's default) on a loaded CI machine.
EXPECT_TIMEOUT_MS = 60_000


def require_browser() -> None:
    """Skip without Chromium or Playwright, except in CI, which must run the browser tests."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM) to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the browser test")
        pytest.skip(reason)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextlib.contextmanager
def dashboard(home: Path, log_path: Path, warm: bool = False, options: tuple[str, ...] = ()):
    """A freshly started server on `home`; yields its URL. Output goes to a file, never a
    pipe; background runs it started are stopped afterwards. `warm`: as users get it, a
    warm worker waits for the first run (the test suite otherwise turns them off). `options`:
    more of Streamlit's command-line options (`--secrets.files PATH`, say)."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LSTM_CORE_HOME": str(home)}
    if warm:
        env["LSTM_CORE_WARM_S"] = "120"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", *options]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)

        def healthy():
            assert process.poll() is None, f"streamlit exited; see {log_path}"
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                return response.read() == b"ok"

        try:
            wait_until(healthy, "/_stcore/health", 60)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
            stop_workers(home)


def stop_workers(home: Path) -> None:
    """Background runs and a warm worker outlive the server by design; a test must not
    leave them behind."""
    from lstm_core.domain.processes import process_alive
    from lstm_core.jobs import queue, standby
    from lstm_core.store.workspace import Workspace

    workspace = Workspace(home)
    running = workspace.store.runs_with_status("running")
    for run in running:
        queue.cancel(workspace, run.id)
    warm = standby.stop(workspace)
    for pid in [r.pid for r in running] + [warm]:
        if pid:
            wait_until(lambda pid=pid: not process_alive(pid), "worker exit", 60)


@contextlib.contextmanager
def chromium():
    """A headless Chromium; yields a function that opens a new tab."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )

        def new_tab():
            tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            tab.set_default_timeout(STEP_TIMEOUT_MS)
            return tab

        try:
            yield new_tab
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished the rerun that the last interaction started."""
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && !['running', 'rerunRequested'].includes(app.getAttribute('data-test-script-state')); }"
    )


def click_option(page, field, value: str) -> None:
    """Type into a combobox and click the option; type again if a rerun closed the list first."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option", name=value, exact=True)
    for _ in range(5):
        settle(page)
        field.click()
        field.fill(value)
        try:
            option.click(timeout=5_000)
            return
        except PlaywrightTimeout:  # the list closed under us: a rerun redrew the widget
            page.keyboard.press("Escape")
    raise AssertionError(f"the option {value!r} never stayed open long enough to click")


def pick_option(page, name: str, option: str) -> None:
    """Pick a selectbox option and check that it stuck."""
    field = page.get_by_role("combobox", name=name, exact=True)
    for _ in range(5):
        click_option(page, field, option)
        settle(page)
        if field.input_value() == option:
            return
    raise AssertionError(f"could not choose {option!r} in {name!r}")


SHOWN_LABEL = """() => {
  const shown = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
    .filter(e => e.offsetParent !== null && e.innerText.startsWith('Predicted label:'));
  return shown.length ? shown[shown.length - 1].innerText.trim() : null;
}"""


def typed_label_latencies(page, sentences: list[str], labels: list[str]) -> list[float]:
    """Type each sentence into Predict's box (replacing the last one, 30 ms between keys)
    and time from the last keystroke until the page shows `labels[i]`: what a person
    feels. Consecutive labels must differ, so that the change is what is waited for."""
    from playwright.sync_api import expect

    assert all(a != b for a, b in zip(labels, labels[1:], strict=False)), labels
    box = page.get_by_role("textbox", name="Type a sentence")
    expect(box).to_be_visible()
    seconds = []
    for sentence, label in zip(sentences, labels, strict=True):
        box.click()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type(sentence, delay=30)
        last_key = time.perf_counter()
        page.wait_for_function(
            f"want => ({SHOWN_LABEL})() === want", arg=f"Predicted label: {label}", polling=10
        )
        seconds.append(time.perf_counter() - last_key)
    return seconds


def alternating_sentences(predict, texts, n: int, longest: int = 60) -> tuple[list, list]:
    """`n` texts (cut to `longest` characters) whose labels by `predict` (a list of texts
    to their `LabelledText`s) alternate, with those labels, for `typed_label_latencies`."""
    cut = [" ".join(str(t)[:longest].split()) for t in texts]
    cut = [t for t in dict.fromkeys(cut) if t]
    predicted = [p.label for p in predict(cut)]
    sentences, labels = [], []
    for text, label in zip(cut, predicted, strict=True):
        if len(sentences) < n and (not labels or label != labels[-1]):
            sentences.append(text)
            labels.append(label)
    assert len(sentences) == n, f"only {len(sentences)} texts with alternating labels"
    return sentences, labels
