"""What a person feels while a search trains: `python bench/busy.py [--full] [--json]`.

The felt figures, measured in one run, first on the machine as it is and then while both
cores train a run of a second workspace (a grid of two fits at a time, far more epochs than
the measurement lasts), so that nothing waits in the measured workspace's queue:
- first_epoch_s / first_epoch_busy_s: Launch (submit) to the first epoch in the store, the
  dashboard's warm worker waiting;
- predict_type_p95_ms / predict_type_busy_p95_ms: the last keystroke of a sentence typed on
  Predict until its label is on screen, in a real Chromium (bench/typing_latency.py);
- page_switch_p95_s / page_switch_busy_p95_s: a click on a page in the sidebar until that
  page has finished drawing, across every page with a finished run chosen (and each page's
  median: page_switch_by_page_median_s / page_switch_busy_by_page_median_s);
- new_tab_busy_s: a new tab on the Runs page of a run that is training, until its first
  chart is drawn.
With `--json` the last line printed is one JSON object. bench/run.py includes these.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"
LONG_EPOCHS = 400  # the load and the measured runs end only when cancelled
# each page's link in the sidebar, and the title it draws
PAGES = {
    "Data": "Data",
    "Experiment": "Experiment",
    "Runs": "Runs",
    "Compare": "Compare",
    "Errors": "Errors",
    "Predict": "Predict",
    "Home": "Recurrent text classification workbench",
}
# Polled every 10 ms: Playwright's expect() looks again after 20, 50, 100 and 100 ms and then
# every 500 ms (retryWithProgressAndBackoff), which rounded a slower switch up to 0.77 s,
# 1.27 s, 1.77 s...
HEADING_READS = """title => { const h = document.querySelector('[data-testid="stMain"] h1');
  return h !== null && h.textContent.trim().startsWith(title); }"""
CHART_SHOWN = """() => { const chart = document.querySelector('[data-testid="stPlotlyChart"]');
  return chart !== null && chart.getBoundingClientRect().height > 0; }"""
APP_IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && !['running', 'rerunRequested'].includes(app.getAttribute('data-test-script-state')); }"""


def _wait(condition, what: str, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _end(workspace, run_id: str) -> None:
    """Cancel a run and wait until its worker has let go of it."""
    from lstm_core.jobs import queue

    queue.cancel(workspace, run_id)
    _wait(lambda: workspace.store.get_run(run_id).status.finished, f"run {run_id} to end")


@contextlib.contextmanager
def training_elsewhere(home: Path, frame):
    """Both cores busy with a run of another workspace, from its first epoch on."""
    from lstm_core.api import Engine, ExperimentSpec
    from lstm_core.jobs import queue, standby
    from lstm_core.store.workspace import Workspace

    workspace = Workspace(home)
    dataset, _ = Engine(home).freeze_dataset(frame, "text", "label", "load.csv")
    spec = ExperimentSpec(
        dataset.id, grid={"units": [16, 32]}, params={"epochs": LONG_EPOCHS}, cv=2, n_jobs=2
    )
    run_id = queue.submit(workspace, spec.validated())
    try:
        _wait(lambda: workspace.store.epochs(run_id), "the load's first epoch")
        yield
    finally:
        _end(workspace, run_id)
        standby.stop(workspace)


def first_epoch_seconds(workspace, spec) -> tuple[float, str]:
    """Submit to the first epoch in the store; the run goes on (the caller ends it)."""
    from lstm_core.jobs import queue

    submitted = time.perf_counter()
    run_id = queue.submit(workspace, spec)
    _wait(lambda: workspace.store.epochs(run_id), "the first epoch")
    return time.perf_counter() - submitted, run_id


def page_switches(page, rounds: int) -> dict[str, list[float]]:
    """Click each page's link in the sidebar in turn; seconds until its title is on screen
    and its script has finished drawing it, per page."""
    seconds: dict[str, list[float]] = {link_text: [] for link_text in PAGES}
    for _ in range(rounds):
        for link_text, title in PAGES.items():
            link = page.locator('[data-testid="stSidebar"] a').filter(has_text=link_text)
            page.wait_for_function(APP_IDLE)
            clicked = time.perf_counter()
            link.first.click()
            page.wait_for_function(HEADING_READS, arg=title, polling=10)
            page.wait_for_function(APP_IDLE, polling=10)
            seconds[link_text].append(time.perf_counter() - clicked)
    return seconds


def new_tab_seconds(new_tab, url: str, run_id: str) -> float:
    """A new tab on a training run's page until its first chart is drawn."""
    page = new_tab()
    opened = time.perf_counter()
    page.goto(f"{url}/runs?run={run_id}")
    page.wait_for_function(CHART_SHOWN, polling=10)
    seconds = time.perf_counter() - opened
    page.close()
    return seconds


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def measure(quick: bool = True) -> dict:
    import pandas as pd
    from browser import alternating_sentences, chromium, dashboard, typed_label_latencies

    from lstm_core.api import Engine, ExperimentSpec, RunStatus
    from lstm_core.jobs import standby
    from lstm_core.store.workspace import Workspace

    n, rounds = (8, 2) if quick else (24, 4)
    figures: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "ws"
        engine = Engine(home)
        frame = pd.read_csv(SAMPLE, encoding="latin-1")
        dataset, _ = engine.freeze_dataset(frame, "message", "label", "sms_spam.csv")
        params = {"units": 16, "embedding_dim": 16, "epochs": 3}
        run = engine.train(ExperimentSpec(dataset.id, params=params, cv=0, n_jobs=1))
        assert run.status == RunStatus.COMPLETED, run.error
        sentences, labels = alternating_sentences(
            lambda batch: engine.predict(run.id, batch), frame["message"].tolist(), 2 * n + 1
        )
        workspace = Workspace(home)
        launched = ExperimentSpec(dataset.id, params={"epochs": LONG_EPOCHS}).validated()
        load_frame = pd.DataFrame({"text": frame["message"], "label": frame["label"]})
        with dashboard(home, Path(folder) / "server.log", warm=True) as url, chromium() as tab:
            page = tab()
            page.goto(f"{url}/predict?run={run.id}")
            typed_label_latencies(page, sentences[:1], labels[:1])  # the model loads
            for phase, suffix in (("quiet", ""), ("busy", "_busy")):
                load = (
                    training_elsewhere(Path(folder) / "load", load_frame)
                    if phase == "busy"
                    else contextlib.nullcontext()
                )
                with load:
                    part = slice(1, n + 1) if phase == "quiet" else slice(n + 1, 2 * n + 1)
                    page.goto(f"{url}/predict?run={run.id}")
                    typed = typed_label_latencies(page, sentences[part], labels[part])
                    by_page = page_switches(page, rounds)
                    switched = [s for times in by_page.values() for s in times]
                    _wait(lambda: standby.alive(workspace), "the warm worker")
                    first, run_id = first_epoch_seconds(workspace, launched)
                    if phase == "busy":
                        figures["new_tab_busy_s"] = round(new_tab_seconds(tab, url, run_id), 2)
                    _end(workspace, run_id)
                figures[f"first_epoch{suffix}_s"] = round(first, 2)
                figures[f"predict_type{suffix}_p50_ms"] = round(statistics.median(typed) * 1e3)
                figures[f"predict_type{suffix}_p95_ms"] = round(p95(typed) * 1e3)
                figures[f"page_switch{suffix}_p50_s"] = round(statistics.median(switched), 2)
                figures[f"page_switch{suffix}_p95_s"] = round(p95(switched), 2)
                figures[f"page_switch{suffix}_max_s"] = round(max(switched), 2)
                figures[f"page_switch{suffix}_by_page_median_s"] = {
                    name: round(statistics.median(times), 2) for name, times in by_page.items()
                }
                print(phase, figures, flush=True)
    figures["busy_niceness"] = os.environ.get("LSTM_CORE_NICE", "10")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="more sentences and page rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(quick=not args.full)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
