"""Background runs with real worker processes and a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import SAMPLE_SMS, tiny_spec

from lstm_core import jobs
from lstm_core.bundle import Bundle
from lstm_core.progress import run_progress
from lstm_core.training import submit_run, train

LONG_EPOCHS = 400  # far longer than any test waits: these runs end only when told to


def wait_for(condition, what: str, timeout: float = 120.0):
    """Poll a condition (not a fixed sleep) until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def status_of(workspace, run_id: str) -> str:
    return workspace.store.get_run(run_id)["status"]


@pytest.fixture
def stop_workers(toy_dataset):
    """Whatever a test leaves running is cancelled and its worker waited for."""
    workspace, _ = toy_dataset
    yield
    for run in workspace.store.runs_with_status("running"):
        workspace.store.request_cancel(run["id"])
        if run["pid"]:
            wait_for(lambda pid=run["pid"]: not jobs.process_alive(pid), "worker exit", 60)
    for run in workspace.store.runs_with_status("queued"):
        workspace.store.cancel_run(run["id"])


def test_background_run_returns_at_once_streams_epochs_and_predicts_like_foreground(
    toy_dataset, stop_workers
):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, epochs=6)
    run_id = jobs.submit(workspace, spec)
    assert status_of(workspace, run_id) in ("queued", "running")
    assert workspace.store.epochs(run_id) == []  # nothing trained in the submitting process

    live = wait_for(
        lambda: (
            (p := run_progress(workspace.store, run_id))["status"] == "running"
            and p["epochs_logged"] > 0
            and p
        ),
        "epoch metrics while the run is running",
    )
    assert live["pid"] != os.getpid() and jobs.process_alive(live["pid"])
    assert live["latest_metrics"]["loss"] is not None
    assert 0 < live["progress"] < 1

    wait_for(lambda: status_of(workspace, run_id) == "completed", "the run to complete")
    done = run_progress(workspace.store, run_id)
    assert (done["trials_done"], done["trials_total"], done["progress"]) == (5, 5, 1.0)
    assert "epoch 6/6" in (workspace.run_dir(run_id) / jobs.WORKER_LOG).read_text()

    foreground = train(spec, workspace)
    texts = ["win cash prize now", "see you at home tonight", "claim free cash", "thanks mum"]
    background_says = Bundle.load(workspace.bundle_dir(run_id)).predict(texts)
    foreground_says = Bundle.load(workspace.bundle_dir(foreground["id"])).predict(texts)
    assert [p["label"] for p in background_says] == [p["label"] for p in foreground_says]
    for a, b in zip(background_says, foreground_says, strict=True):
        for label, probability in a["probabilities"].items():
            assert probability == pytest.approx(b["probabilities"][label], abs=0.02)


def test_cancel_stops_a_running_run_within_seconds(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = jobs.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS))
    wait_for(lambda: len(workspace.store.epochs(run_id)) >= 2, "a couple of epochs")
    asked = time.monotonic()
    assert jobs.cancel(workspace, run_id) == "cancelling"
    wait_for(
        lambda: status_of(workspace, run_id) == "cancelled", "the run to be cancelled", timeout=30
    )
    latency = time.monotonic() - asked
    print(f"\ncancel latency: {latency:.2f} s")
    kept = workspace.store.epochs(run_id)
    assert kept, "epochs recorded before the cancel are kept"
    assert workspace.store.trials(run_id)[-1]["status"] == "cancelled"
    assert not workspace.bundle_dir(run_id).exists()


def test_cancel_of_a_queued_run_is_immediate(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1))  # queued, no dispatch
    assert jobs.cancel(workspace, run_id) == "cancelled"
    assert status_of(workspace, run_id) == "cancelled"
    with pytest.raises(Exception, match="has already ended \\(cancelled\\)"):
        jobs.cancel(workspace, run_id)


def test_killed_worker_is_marked_interrupted_not_running(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = jobs.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS))
    wait_for(lambda: workspace.store.epochs(run_id), "training to start")
    pid = workspace.store.get_run(run_id)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not jobs.process_alive(pid), "the worker to die")
    jobs.refresh(workspace)
    run = workspace.store.get_run(run_id)
    assert run["status"] == "interrupted"
    assert f"pid {pid}" in run["error"]
    assert workspace.store.epochs(run_id), "what was recorded survives the crash"


def test_a_claim_whose_worker_never_reported_goes_stale(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1))
    assert workspace.store.claim_next(max_running=1)["id"] == run_id
    assert workspace.store.claim_next(max_running=1) is None, "the limit holds"
    with workspace.store._write() as db:
        db.execute("UPDATE runs SET heartbeat_at = heartbeat_at - 120 WHERE id = ?", (run_id,))
    assert jobs.reap(workspace) == [run_id]
    assert "no heartbeat for 120 s" in workspace.store.get_run(run_id)["error"]


def test_queued_runs_wait_for_a_dispatcher_and_then_run(toy_dataset, stop_workers):
    """What a restarted dashboard does: queued runs are still queued, and get started."""
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1, cv=0, grid={}))
    assert status_of(workspace, run_id) == "queued"
    assert jobs.dispatch(workspace) == [run_id]
    wait_for(lambda: status_of(workspace, run_id) == "completed", "the dispatched run")


@pytest.mark.slow
def test_parallel_trials_report_from_their_own_processes(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = jobs.submit(workspace, tiny_spec(dataset_id, epochs=2, n_jobs=2))
    wait_for(lambda: status_of(workspace, run_id) in ("completed", "failed"), "the parallel run")
    run = workspace.store.get_run(run_id)
    assert run["status"] == "completed", run["error"]
    trials = workspace.store.trials(run_id)
    assert len(trials) == 5 and all(t["status"] == "completed" for t in trials)
    fit_pids = {t["pid"] for t in trials if t["fold"] >= 0}
    assert len(fit_pids - {run["pid"]}) >= 2
    # the workers started while the run imported TensorFlow are the ones that fitted
    log = (workspace.run_dir(run_id) / jobs.WORKER_LOG).read_text()
    started = re.search(r"fit workers ready: pids ([\d ]+)", log)
    assert started and fit_pids <= {int(pid) for pid in started.group(1).split()}


def test_cli_background_status_and_cancel(tmp_path):
    env = {**os.environ, "LSTM_CORE_HOME": str(tmp_path)}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "lstm_core", *args], capture_output=True, text=True, env=env
        )

    submitted = cli(
        "train", str(SAMPLE_SMS), "--text", "message", "--label", "label", "--arch", "gru",
        "--set", "units=4", "--epochs", str(LONG_EPOCHS), "--cv", "0", "--background", "--json",
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    run_id = json.loads(submitted.stdout.strip().splitlines()[-1])["run_id"]

    def status():
        return json.loads(cli("status", run_id, "--json").stdout.strip().splitlines()[-1])

    assert status()["status"] in ("queued", "running"), "the CLI returned before training finished"
    live = wait_for(
        lambda: (s := status())["epochs_logged"] > 0 and s, "epochs via lstm-core status"
    )
    expected = {
        "status",
        "pid",
        "trials_done",
        "trials_total",
        "epochs_logged",
        "progress",
        "eta_s",
        "latest_metrics",
        "error",
    }
    assert expected <= set(live)
    assert cli("cancel", run_id).stdout.strip() == f"run {run_id} cancelling"
    wait_for(lambda: status()["status"] == "cancelled", "cancel via the CLI", timeout=30)
    again = cli("cancel", run_id)
    assert again.returncode == 2 and "has already ended (cancelled)" in again.stderr


@pytest.mark.slow
def test_five_runs_submitted_together_all_finish_one_at_a_time(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_ids = [
        jobs.submit(workspace, tiny_spec(dataset_id, epochs=1, cv=0, grid={}, seed=s))
        for s in range(5)
    ]
    most_at_once = 0

    def all_done():
        nonlocal most_at_once
        jobs.refresh(workspace)
        statuses = [status_of(workspace, r) for r in run_ids]
        most_at_once = max(most_at_once, statuses.count("running"))
        return all(s == "completed" for s in statuses)

    wait_for(all_done, "five queued runs", timeout=300)
    assert most_at_once == 1


def test_store_takes_concurrent_writers_without_losing_rows(tmp_path):
    from lstm_core.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    store.add_dataset("d", "toy", "t", "l", 1, {})
    run_id = store.create_run({}, "d")
    writer = (
        "import sys\n"
        "from lstm_core.store import RunStore\n"
        "store = RunStore(sys.argv[1])\n"
        "for t in range(20):\n"
        "    trial = store.start_trial(sys.argv[2], {'w': sys.argv[3], 't': t}, 0, 10, 10)\n"
        "    for e in range(10):\n"
        "        store.log_epoch(trial, e, {'loss': 1.0 / (e + 1)}, 0.01)\n"
        "    store.finish_trial(trial)\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(store.path), run_id, str(w)])
        for w in range(4)
    ]
    while any(w.poll() is None for w in writers):
        assert len(store.epochs(run_id)) <= 4 * 20 * 10  # reading while they write works
    assert [w.returncode for w in writers] == [0, 0, 0, 0]
    assert len(store.trials(run_id)) == 80
    assert len(store.epochs(run_id)) == 800
