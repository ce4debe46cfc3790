"""Background runs with real worker processes and a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import SAMPLE_SMS, tiny_spec

from lstm_core.api import Engine, RunStatus, TrialStatus, UserError
from lstm_core.domain.processes import process_alive
from lstm_core.execution.training import submit_run, train
from lstm_core.jobs import dispatch, queue, standby
from lstm_core.models.bundle import Bundle

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
    return workspace.store.get_run(run_id).status


def progress(workspace, run_id: str):
    return Engine(workspace.root).progress(run_id)


@pytest.fixture
def stop_workers(toy_dataset):
    """Whatever a test leaves running is cancelled and its worker waited for."""
    workspace, _ = toy_dataset
    yield
    for run in workspace.store.runs_with_status(RunStatus.RUNNING):
        workspace.store.request_cancel(run.id)
        if run.pid:
            wait_for(lambda pid=run.pid: not process_alive(pid), "worker exit", 60)
    for run in workspace.store.runs_with_status(RunStatus.QUEUED):
        workspace.store.cancel_run(run.id)
    warm = standby.stop(workspace)
    if warm:
        wait_for(lambda: not process_alive(warm), "the warm worker's exit", 60)


def test_background_run_returns_at_once_streams_epochs_and_predicts_like_foreground(
    toy_dataset, stop_workers
):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, epochs=6)
    run_id = queue.submit(workspace, spec)
    assert status_of(workspace, run_id) in ("queued", "running")
    assert workspace.store.epochs(run_id) == []  # nothing trained in the submitting process

    live = wait_for(
        lambda: (
            (p := progress(workspace, run_id)).status == RunStatus.RUNNING
            and p.epochs_logged > 0
            and p
        ),
        "epoch metrics while the run is running",
    )
    assert live.pid != os.getpid() and process_alive(live.pid)
    assert live.latest.loss is not None
    assert 0 < live.fraction < 1

    wait_for(lambda: status_of(workspace, run_id) == RunStatus.COMPLETED, "the run to complete")
    done = progress(workspace, run_id)
    assert (done.trials_done, done.trials_total, done.fraction) == (5, 5, 1.0)
    assert "epoch 6/6" in workspace.worker_log(run_id).read_text()

    foreground = train(spec, workspace)
    texts = ["win cash prize now", "see you at home tonight", "claim free cash", "thanks mum"]
    background_says = Bundle.load(workspace.bundle_dir(run_id)).predict(texts)
    foreground_says = Bundle.load(workspace.bundle_dir(foreground.id)).predict(texts)
    assert [p.label for p in background_says] == [p.label for p in foreground_says]
    for a, b in zip(background_says, foreground_says, strict=True):
        for label, probability in a.probabilities.items():
            assert probability == pytest.approx(b.probabilities[label], abs=0.02)


def test_cancel_stops_a_running_run_within_seconds(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS))
    wait_for(lambda: len(workspace.store.epochs(run_id)) >= 2, "a couple of epochs")
    asked = time.monotonic()
    assert queue.cancel(workspace, run_id) == "cancelling"
    wait_for(
        lambda: status_of(workspace, run_id) == RunStatus.CANCELLED,
        "the run to be cancelled",
        timeout=30,
    )
    latency = time.monotonic() - asked
    print(f"\ncancel latency: {latency:.2f} s")
    kept = workspace.store.epochs(run_id)
    assert kept, "epochs recorded before the cancel are kept"
    assert workspace.store.trials(run_id)[-1].status == TrialStatus.CANCELLED
    assert not workspace.bundle_dir(run_id).exists()


def test_cancel_of_a_queued_run_is_immediate(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1))  # queued, no dispatch
    assert queue.cancel(workspace, run_id) == RunStatus.CANCELLED
    assert status_of(workspace, run_id) == RunStatus.CANCELLED
    with pytest.raises(UserError, match="has already ended \\(cancelled\\)"):
        queue.cancel(workspace, run_id)


def test_killed_worker_is_marked_interrupted_not_running(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS))
    wait_for(lambda: workspace.store.epochs(run_id), "training to start")
    pid = workspace.store.get_run(run_id).pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), "the worker to die")

    def marked() -> bool:  # a reader's look is skipped while another process writes
        queue.refresh(workspace)
        return workspace.store.get_run(run_id).status != RunStatus.RUNNING

    wait_for(marked, "a reader to mark the run")
    run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert f"pid {pid}" in run.error
    assert workspace.store.epochs(run_id), "what was recorded survives the crash"
    assert workspace.store.trials(run_id)[-1].status == TrialStatus.INTERRUPTED


def test_a_claim_whose_worker_never_reported_goes_stale(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1))
    assert workspace.store.claim_next(max_running=1).id == run_id
    assert workspace.store.claim_next(max_running=1) is None, "the limit holds"
    db = sqlite3.connect(workspace.database)
    with db:
        db.execute("UPDATE runs SET heartbeat_at = heartbeat_at - 120 WHERE id = ?", (run_id,))
    db.close()
    assert dispatch.reap(workspace) == [run_id]
    assert "No worker took the run within 120 s" in workspace.store.get_run(run_id).error


def test_queued_runs_wait_for_a_dispatcher_and_then_run(toy_dataset, stop_workers):
    """What a restarted dashboard does: queued runs are still queued, and get started."""
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=1, cv=0, grid={}))
    assert status_of(workspace, run_id) == RunStatus.QUEUED
    assert dispatch.dispatch(workspace) == [run_id]
    wait_for(lambda: status_of(workspace, run_id) == RunStatus.COMPLETED, "the dispatched run")


@pytest.mark.slow
def test_parallel_fits_keep_a_candidates_folds_on_one_fit_process(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=2, n_jobs=2))
    wait_for(lambda: status_of(workspace, run_id).finished, "the parallel run")
    run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.COMPLETED, run.error
    trials = workspace.store.trials(run_id)
    assert len(trials) == 5 and all(t.status == TrialStatus.COMPLETED for t in trials)
    fit_pids = {t.pid for t in trials}
    assert len(fit_pids) == 2 and run.pid not in fit_pids, "two fit processes, not the worker"
    for candidate in (0, 1):
        assert len({t.pid for t in trials if t.candidate == candidate and not t.is_refit}) == 1
    # the fit processes the run started are the ones that fitted, and none outlived it
    log = workspace.worker_log(run_id).read_text()
    started = re.search(r"fit processes: pids ([\d ]+)", log)
    assert started and fit_pids <= {int(pid) for pid in started.group(1).split()}
    wait_for(lambda: not any(process_alive(pid) for pid in fit_pids), "fit processes exit", 30)


TPE = {"ranges": {"units": [2, 8], "learning_rate": [0.001, 0.1, True]}, "n_iter": 5}
RESUMED_SEARCHES = [
    pytest.param("grid", {"arch": ["lstm", "gru"], "units": [2, 4]}, 1, {}, "fits", id="grid"),
    pytest.param(
        "halving",
        {"units": [2, 3, 4, 5]},
        2,
        {},
        "round",
        id="halving-parallel",
        marks=pytest.mark.slow,
    ),
    # killed with the first batch of two candidates scored and the second one training
    pytest.param("tpe", {"arch": ["lstm", "gru"]}, 2, TPE, "batch", id="tpe-parallel"),
    pytest.param(
        "tpe", {"arch": ["lstm", "gru"]}, 2, TPE, "refit", id="tpe-refit", marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("search, grid, n_jobs, more, kill_at", RESUMED_SEARCHES)
def test_resume_after_sigkill_skips_finished_fits_and_ends_like_an_uninterrupted_run(
    toy_dataset, stop_workers, monkeypatch, search, grid, n_jobs, more, kill_at
):
    """For TPE, the candidates after the kill are proposed from the scores, so ending like
    the uninterrupted run also shows that the study resumed as if never stopped. The worker
    that ends the resumed run stays warm and takes the uninterrupted one, as a person's next
    run is taken: it starts no processes again."""
    monkeypatch.setenv(standby.WARM_VARIABLE, "60")
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(dataset_id, epochs=2, grid=grid, search=search, n_jobs=n_jobs, **more)
    cv_fits = spec.validated().n_fits() - 1
    run_id = queue.submit(workspace, spec)

    def finished_fits():
        return [t for t in workspace.store.trials(run_id) if t.status == TrialStatus.COMPLETED]

    def far_enough():
        done, trials = finished_fits(), workspace.store.trials(run_id)
        reached = {
            "fits": len(done) >= 3,
            "round": any(t.round > 0 for t in trials),  # halving: into its second round
            "batch": len(done) >= 5,
            "refit": sum(not t.is_refit for t in done) == cv_fits,  # every candidate fitted
        }[kill_at]
        return reached and done

    finished_before = wait_for(far_enough, "fits to finish before the kill")
    pid = workspace.store.get_run(run_id).pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), "the worker to die")
    queue.refresh(workspace)
    assert status_of(workspace, run_id) == RunStatus.INTERRUPTED
    done_before = {(t.candidate, t.round, t.fold): t for t in finished_before}
    if kill_at == "refit":
        assert len(done_before) == cv_fits, "killed during the refit"
    else:
        assert len(done_before) < cv_fits, "killed before the end"

    Engine(workspace.root).resume(run_id)
    wait_for(lambda: status_of(workspace, run_id).finished, "the resumed run", timeout=180)
    resumed = workspace.store.get_run(run_id)
    assert resumed.status == RunStatus.COMPLETED, resumed.error
    trials = workspace.store.trials(run_id)
    completed = [t for t in trials if t.status == TrialStatus.COMPLETED]
    keys = [(t.candidate, t.round, t.fold) for t in completed]
    assert len(keys) == len(set(keys)) == cv_fits + 1, "every fit once: none repeated, none lost"
    for key, before in done_before.items():
        (now,) = [t for t in completed if (t.candidate, t.round, t.fold) == key]
        assert (now.id, now.score, now.pid) == (before.id, before.score, before.pid), "kept"
    assert all(t.status == TrialStatus.INTERRUPTED for t in trials if t not in completed)

    uninterrupted = queue.submit(workspace, spec)
    wait_for(lambda: status_of(workspace, uninterrupted).finished, "the uninterrupted run", 180)
    engine = Engine(workspace.root)
    again, first = engine.result(uninterrupted), engine.result(run_id)
    assert first.best_params == again.best_params
    assert first.cv_best_score == pytest.approx(again.cv_best_score, abs=1e-6)
    assert (first.test.accuracy, first.test.macro_f1) == (again.test.accuracy, again.test.macro_f1)
    assert first.test.confusion_matrix == again.test.confusion_matrix


def test_delete_removes_the_runs_rows_and_files_and_refuses_an_active_run(
    toy_dataset, stop_workers
):
    workspace, dataset_id = toy_dataset
    engine = Engine(workspace.root)
    done = train(tiny_spec(dataset_id, grid={}), workspace)
    assert workspace.bundle_dir(done.id).exists()
    running = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS))
    with pytest.raises(UserError, match="cancel it before deleting it"):
        engine.delete_run(running)
    with pytest.raises(UserError, match="used by 2 run"):
        engine.delete_dataset(dataset_id)
    engine.delete_run(done.id)
    assert workspace.store.get_run(done.id) is None
    assert workspace.store.trials(done.id) == [] and workspace.store.epochs(done.id) == []
    assert not workspace.run_dir(done.id).exists()
    assert [r.id for r in engine.runs()] == [running]


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
        "trials",
        "epochs_logged",
        "progress",
        "eta_s",
        "latest_metrics",
        "error",
    }
    assert expected <= set(live)
    assert live["trials_total"] == 2  # one candidate on a validation split, and its refit
    (trial,) = live["trials"]
    assert (trial["candidate"], trial["fold"], trial["status"]) == (0, 0, "running")
    assert trial["params"]["arch"] == "gru" and trial["params"]["units"] == 4
    assert cli("cancel", run_id).stdout.strip() == f"run {run_id} cancelling"
    wait_for(lambda: status()["status"] == "cancelled", "cancel via the CLI", timeout=30)
    again = cli("cancel", run_id)
    assert again.returncode == 2 and "has already ended (cancelled)" in again.stderr


@pytest.mark.slow
def test_five_runs_submitted_together_all_finish_one_at_a_time(
    toy_dataset, stop_workers, monkeypatch
):
    """As people get it: the worker that finished a run takes the next one, warm."""
    monkeypatch.setenv(standby.WARM_VARIABLE, "60")
    workspace, dataset_id = toy_dataset
    run_ids = [
        queue.submit(workspace, tiny_spec(dataset_id, epochs=1, cv=0, grid={}, seed=s))
        for s in range(5)
    ]
    most_at_once = 0

    def all_done():
        nonlocal most_at_once
        queue.refresh(workspace)
        statuses = [status_of(workspace, r) for r in run_ids]
        most_at_once = max(most_at_once, statuses.count(RunStatus.RUNNING))
        return all(s == RunStatus.COMPLETED for s in statuses)

    wait_for(all_done, "five queued runs", timeout=300)
    assert most_at_once == 1


def test_store_takes_concurrent_writers_without_losing_rows(tmp_path):
    from lstm_core.domain.entities import Dataset
    from lstm_core.domain.spec import ExperimentSpec
    from lstm_core.store.store_url import open_store, sqlite_url

    url = sqlite_url(tmp_path / "runs.sqlite")
    store = open_store(url)
    store.add_dataset(Dataset("d", "toy", "t", "l", 1))
    run_id = store.create_run(ExperimentSpec("d"), 80)
    writer = (
        "import sys\n"
        "from lstm_core.domain.entities import Epoch, TrialStatus\n"
        "from lstm_core.store.store_url import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "for t in range(20):\n"
        "    trial = store.start_trial(sys.argv[2], candidate=t, round=0, fold=int(sys.argv[3]),\n"
        "        params={'t': t}, n_train=10, epochs_planned=10, pid=None, worker='local')\n"
        "    for e in range(10):\n"
        "        store.log_epochs([Epoch(trial, e, loss=1.0 / (e + 1))])\n"
        "    store.finish_trial(trial, TrialStatus.COMPLETED, 0.5)\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, url, run_id, str(w)]) for w in range(4)
    ]
    while any(w.poll() is None for w in writers):
        assert len(store.epochs(run_id)) <= 4 * 20 * 10  # reading while they write works
    assert [w.returncode for w in writers] == [0, 0, 0, 0]
    assert len(store.trials(run_id)) == 80
    assert len(store.epochs(run_id)) == 800


def test_resume_takes_back_a_cancelled_and_a_failed_run_and_refuses_without_its_texts(
    toy_dataset, stop_workers
):
    workspace, dataset_id = toy_dataset
    engine = Engine(workspace.root)
    cancelled = queue.submit(workspace, tiny_spec(dataset_id, grid={}, cv=0, epochs=LONG_EPOCHS))
    wait_for(lambda: workspace.store.epochs(cancelled), "epochs")
    engine.cancel(cancelled)
    wait_for(lambda: status_of(workspace, cancelled) == RunStatus.CANCELLED, "cancelled")
    failed = submit_run(workspace, tiny_spec(dataset_id, grid={}, cv=0))
    workspace.store.fail_run(failed, "the disk was full")
    for run_id in (cancelled, failed):
        resumed = engine.resume(run_id)
        assert resumed.status.active and resumed.error is None
        engine.cancel(run_id)
        wait_for(lambda run_id=run_id: status_of(workspace, run_id).finished, "stopped again")
    data = workspace.dataset_dir(dataset_id) / "data.csv"
    data.rename(data.with_suffix(".moved"))
    with pytest.raises(UserError, match=f"Dataset {dataset_id} is not in this workspace"):
        engine.resume(failed)
    assert status_of(workspace, failed) in (RunStatus.CANCELLED, RunStatus.FAILED)


def test_a_fit_process_that_dies_fails_the_run_and_only_its_own_fit(toy_dataset, stop_workers):
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, n_jobs=2))
    wait_for(lambda: len({t.pid for t in workspace.store.trials(run_id)}) == 2, "two fits")
    wait_for(lambda: workspace.store.epochs(run_id), "epochs")
    victim = workspace.store.trials(run_id)[0]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: status_of(workspace, run_id).finished, "the run to end", 60)
    run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(f"The fit process (pid {victim.pid}) died")
    statuses = {t.id: t.status for t in workspace.store.trials(run_id)}
    assert statuses.pop(victim.id) == TrialStatus.FAILED
    assert set(statuses.values()) <= {TrialStatus.INTERRUPTED, TrialStatus.CANCELLED}
    pids = {t.pid for t in workspace.store.trials(run_id)}
    wait_for(lambda: not any(process_alive(p) for p in pids), "the other fit process to end", 10)


def niceness(pid: int) -> int:
    """A process's nice value (field 19 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[16])


def test_training_runs_below_the_dashboards_priority(toy_dataset, stop_workers):
    """A search on every core must not slow the pages: its worker and fit processes run at
    training's niceness, while the process that asked (the dashboard, the CLI) keeps its
    own."""
    workspace, dataset_id = toy_dataset
    asker = os.nice(0)  # nobody can raise a process's priority, so training's is at least it
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, n_jobs=2))
    trial = wait_for(
        lambda: next((t for t in workspace.store.trials(run_id) if t.progress > 0), None),
        "a fit's first epoch",
    )
    worker = workspace.store.get_run(run_id).pid
    assert niceness(worker) == niceness(trial.pid) == max(10, asker)
    assert niceness(os.getpid()) == asker, "the asker keeps its priority"
