"""Fits on a real Dask cluster: a `LocalCluster` of two worker processes on the loopback.

The run's own process (a background worker, as the dashboard starts it, or this test's
process for a foreground run) talks to the scheduler; the fits run in Dask's worker
processes and their epochs come back over the cluster into the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, TINY, tiny_spec, toy_texts
from streamlit.testing.v1 import AppTest
from test_background import status_of, wait_for

from lstm_core.api import Engine, ExperimentSpec, RunStatus, TrialStatus, UserError
from lstm_core.execution.training import train
from lstm_core.jobs import queue

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

SLOW_EPOCHS = 400  # these runs end only when told to, or when a worker is killed


def local_cluster():
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as running:
        yield running


def worker_pids(address: str) -> dict[str, int]:
    with distributed.Client(address, set_as_default=False) as client:
        return client.run(os.getpid)


def one_text_batches(dataset_id: str, address: str, epochs: int = SLOW_EPOCHS):
    """Two fits at once on the cluster, in batches of one text (epochs of about a second
    on `long_epochs_dataset`)."""
    return tiny_spec(
        dataset_id,
        epochs=epochs,
        n_jobs=2,
        params={**TINY, "epochs": epochs, "batch_size": 1},
        cluster=address,
    )


def long_epochs_dataset(workspace) -> str:
    """Toy texts enough for epochs of about a second with batches of one text, so that
    "within an epoch" can be told from "a few epochs later"."""
    from lstm_core.data.datasets import LabelledTexts, freeze_dataset

    texts, labels = toy_texts(1500)
    values, counts = np.unique(labels, return_counts=True)
    data = LabelledTexts(texts, labels, dict(zip(values.tolist(), counts.tolist(), strict=True)))
    return freeze_dataset(workspace, data, "toy-long", "text", "label").id


def test_a_grid_on_the_cluster_ends_as_the_same_run_here(toy_dataset, cluster):
    workspace, dataset_id = toy_dataset
    design = tiny_spec(dataset_id, epochs=2, n_jobs=2, grid={"units": [4, 8]})
    here = train(design, workspace)
    there = train(ExperimentSpec(**{**design.to_dict(), "cluster": cluster.scheduler_address}))
    assert (here.status, there.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED), there.error
    engine = Engine(workspace.root)
    mine, theirs = engine.result(here.id), engine.result(there.id)
    assert theirs.best_params == mine.best_params
    assert theirs.cv_best_score == mine.cv_best_score
    assert theirs.test.summary() == mine.test.summary()

    def scores(run_id):
        return {(t.candidate, t.fold): t.score for t in engine.trials(run_id)}

    assert scores(there.id) == scores(here.id)
    workers = set(worker_pids(cluster.scheduler_address))
    placed = {t.worker for t in engine.trials(there.id)}
    assert placed <= workers and len(placed) == 2, "both workers fitted, none of it here"
    assert {t.worker for t in engine.trials(here.id)} == {"local"}
    assert len(engine.epochs(there.id)) == len(engine.epochs(here.id)) == 2 * 5

    status = subprocess.run(
        [sys.executable, "-m", "lstm_core", "status", there.id, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "LSTM_CORE_HOME": str(workspace.root)},
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert {t["worker"] for t in json.loads(status.stdout)["trials"]} == placed

    view = engine.cluster_view(there.id)
    assert view.cluster.scheduler == cluster.scheduler_address
    assert view.cluster.dashboard == cluster.dashboard_link
    assert sum(w.completed for w in view.workers) == 5
    assert engine.cluster_view(here.id) is None

    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    page.switch_page("pages/runs.py").run()  # the newest run: the cluster's
    assert not page.exception
    shown = " ".join(m.value for m in page.markdown)
    assert cluster.dashboard_link in shown, "a link to Dask's own dashboard"
    table = next(d.value for d in page.dataframe if "worker" in d.value.columns)
    assert dict(zip(table["worker"], table["fits done"], strict=True)) == {
        w.worker: w.completed for w in view.workers
    }


def test_a_background_run_streams_epochs_and_stops_within_an_epoch(workspace, cluster):
    dataset_id = long_epochs_dataset(workspace)
    spec = one_text_batches(dataset_id, cluster.scheduler_address)
    run_id = queue.submit(workspace, spec)
    wait_for(
        lambda: (
            status_of(workspace, run_id) == RunStatus.RUNNING
            and len({e.trial_id for e in workspace.store.epochs(run_id)}) == 2
        ),
        "epochs of both fits in the store while the run trains",
    )
    running = workspace.store.trials(run_id)
    assert {t.status for t in running} == {TrialStatus.RUNNING}
    assert all(t.worker.startswith("tcp://127.0.0.1:") for t in running)
    asked = time.time()
    assert queue.cancel(workspace, run_id) == "cancelling"
    wait_for(lambda: status_of(workspace, run_id) == RunStatus.CANCELLED, "the cancel", 60)
    epochs = workspace.store.epochs(run_id)
    seconds = np.median([e.seconds for e in epochs if e.logged_at < asked])
    later = [e for e in epochs if e.logged_at > asked]
    print(f"\nmedian epoch {seconds:.2f} s; epochs after the cancel: {len(later)}")
    for trial in workspace.store.trials(run_id):
        assert trial.status == TrialStatus.CANCELLED
        # The epoch under way when the cancel came may still end in full, then the next
        # one is cut short (and logged): stopped within an epoch of the cancel.
        theirs = [e.logged_at for e in later if e.trial_id == trial.id]
        assert len(theirs) <= 2
        assert max(theirs, default=asked) - asked <= seconds + 1.0, "it stopped within an epoch"
    assert not workspace.bundle_dir(run_id).exists()


def test_a_worker_killed_mid_fit_loses_only_that_fit(workspace):
    dataset_id = long_epochs_dataset(workspace)
    with local_cluster() as own:
        spec = one_text_batches(dataset_id, own.scheduler_address, 3)
        run_id = queue.submit(workspace, spec)
        first = wait_for(
            lambda: next(
                (t for t in workspace.store.trials(run_id) if t.status == TrialStatus.RUNNING),
                None,
            ),
            "a fit running on a worker",
        )
        wait_for(
            lambda: any(e.trial_id == first.id for e in workspace.store.epochs(run_id)),
            "its first epoch",
        )
        os.kill(worker_pids(own.scheduler_address)[first.worker], signal.SIGKILL)
        wait_for(lambda: RunStatus(status_of(workspace, run_id)).finished, "the run", 240)
        run = workspace.store.get_run(run_id)
        assert run.status == RunStatus.COMPLETED, run.error
        trials = workspace.store.trials(run_id)
        lost = next(t for t in trials if t.id == first.id)
        assert lost.status == TrialStatus.INTERRUPTED
        again = [
            t
            for t in trials
            if (t.candidate, t.fold) == (lost.candidate, lost.fold) and t.id != lost.id
        ]
        assert [t.status for t in again] == [TrialStatus.COMPLETED]
        assert again[0].worker != lost.worker
        others = [t for t in trials if t.id != lost.id]
        assert all(t.status == TrialStatus.COMPLETED for t in others)
        assert Engine(workspace.root).result(run_id).test.macro_f1 > 0.9


def test_a_bayesian_search_keeps_a_candidate_per_worker_in_flight(toy_dataset, cluster):
    workspace, dataset_id = toy_dataset
    spec = tiny_spec(
        dataset_id,
        epochs=2,
        search="tpe",
        n_iter=4,
        cv=0,  # one fit per candidate: two workers, two candidates at once
        grid={},
        ranges={"units": {"low": 2, "high": 16, "log": True}},
        cluster=cluster.scheduler_address,
    )
    run = train(spec, workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    fits = [t for t in workspace.store.trials(run.id) if not t.is_refit]
    assert len({t.candidate for t in fits}) == 4
    first_batch = {t.candidate for t in fits if t.started_at < min(f.finished_at for f in fits)}
    assert len(first_batch) == 2, "two candidates asked together, one for each worker"


def test_an_unreachable_scheduler_is_one_sentence(toy_dataset, monkeypatch):
    workspace, dataset_id = toy_dataset
    with pytest.raises(UserError, match="Could not reach the Dask scheduler at tcp://127.0.0.1:9"):
        Engine(workspace.root).check_cluster("tcp://127.0.0.1:9")
    cli = subprocess.run(
        [sys.executable, "-m", "lstm_core", "train", str(ROOT / "sample_data" / "sms_spam.csv")]
        + ["--text", "text", "--label", "label", "--cluster", "tcp://127.0.0.1:9", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "LSTM_CORE_HOME": str(workspace.root)},
        timeout=120,
    )
    assert cli.returncode == 2
    assert cli.stderr.count("\n") == 1 and "Could not reach the Dask scheduler" in cli.stderr
    assert workspace.store.runs_with_status(RunStatus.QUEUED) == []


def test_the_experiment_page_checks_the_cluster_and_launches_onto_it(toy_dataset, cluster):
    workspace, dataset_id = toy_dataset
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/experiment.py").run()
    app.text_input(key="settings_cluster").set_value(cluster.scheduler_address).run()
    app.button(key="settings_cluster_check").click().run()
    assert any("2 worker(s)" in s.value for s in app.success), [s.value for s in app.success]
    assert any("Dask's own dashboard" in m.value for m in app.markdown)
    app.button(key="exp_launch").click().run()
    assert not app.exception
    (launched,) = workspace.store.list_runs()
    assert launched.spec.cluster == cluster.scheduler_address
    queue.cancel(workspace, launched.id)
    wait_for(lambda: RunStatus(status_of(workspace, launched.id)).finished, "the cancel", 120)


def fits_executing(client) -> int:
    """Threads running a task on the workers (a cancelled task keeps its thread until it
    returns: Dask cannot interrupt it)."""
    return sum(client.run(lambda dask_worker: len(dask_worker.active_threads)).values())


def test_a_cancel_in_the_first_seconds_leaves_nothing_training_on_the_cluster(workspace):
    dataset_id = long_epochs_dataset(workspace)
    with (
        local_cluster() as fresh,  # its workers still have TensorFlow to load
        distributed.Client(fresh.scheduler_address, set_as_default=False) as client,
    ):
        spec = one_text_batches(dataset_id, fresh.scheduler_address)
        run_id = queue.submit(workspace, spec)
        wait_for(lambda: fits_executing(client), "a fit begun on a worker")
        queue.cancel(workspace, run_id)
        wait_for(lambda: status_of(workspace, run_id) == RunStatus.CANCELLED, "the cancel", 60)
        wait_for(
            lambda: fits_executing(client) == 0,
            "the workers idle, no fit left training for a run that ended",
            30,
        )


def test_workers_that_cannot_take_fits_are_refused_in_one_sentence():
    empty = distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None)
    with empty, pytest.raises(UserError, match="has no workers; start `dask worker"):
        Engine().check_cluster(empty.scheduler_address)
    threaded = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, host="127.0.0.1", dashboard_address=None
    )
    with threaded, pytest.raises(UserError, match="runs 2 threads.*--nthreads 1"):
        Engine().check_cluster(threaded.scheduler_address)


def test_a_run_on_another_backend_than_the_workers_fails_with_a_sentence(
    toy_dataset, cluster, monkeypatch
):
    workspace, dataset_id = toy_dataset
    train(tiny_spec(dataset_id, grid={}, cv=2, cluster=cluster.scheduler_address), workspace)
    monkeypatch.setenv("LSTM_CORE_BACKEND", "jax")
    run = train(tiny_spec(dataset_id, grid={}, cv=2, cluster=cluster.scheduler_address), workspace)
    assert run.status == RunStatus.FAILED
    assert "trains on Keras' tensorflow backend" in run.error
    assert "restart the workers to train on jax" in run.error


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dask_cli(*args: str) -> subprocess.Popen:
    """`dask scheduler` or `dask worker` as on a real machine, in a process group of its own
    (a worker's nannies with it), so that a test can kill it whole."""
    return subprocess.Popen(
        ["dask", *args, "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_workers(address: str) -> subprocess.Popen:
    return dask_cli("worker", address, "--nworkers", "2", "--nthreads", "1")


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def separate_cluster(port: int | None = None):
    """A scheduler and two single-threaded workers, each a `dask` command of its own:
    (address, scheduler, workers)."""
    port = port or free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = dask_cli("scheduler", "--host", "127.0.0.1", "--port", str(port))
    workers = start_workers(address)
    try:
        yield address, scheduler, workers
    finally:
        kill_group(workers)
        kill_group(scheduler)


def a_fit_trained_an_epoch(workspace, run_id: str) -> bool:
    running = {t.id for t in workspace.store.trials(run_id) if t.status == TrialStatus.RUNNING}
    return any(e.trial_id in running for e in workspace.store.epochs(run_id))


def one_plain_sentence(error: str | None, *names: str) -> None:
    assert error and error.endswith(".") and ". " not in error and "\n" not in error, error
    assert "Error" not in error and "Traceback" not in error, error
    for name in names:
        assert name in error, (name, error)


def test_a_killed_scheduler_fails_the_run_in_a_sentence_and_it_resumes(workspace):
    dataset_id = long_epochs_dataset(workspace)
    port = free_port()
    with separate_cluster(port) as (address, scheduler, workers):
        run_id = queue.submit(workspace, one_text_batches(dataset_id, address))
        try:
            wait_for(lambda: a_fit_trained_an_epoch(workspace, run_id), "a fit's first epoch")
            kill_group(scheduler)
            wait_for(lambda: RunStatus(status_of(workspace, run_id)).finished, "the run", 120)
            run = workspace.store.get_run(run_id)
            assert run.status == RunStatus.FAILED
            one_plain_sentence(run.error, f"scheduler at {address}", f"lstm-core resume {run_id}")
            trials = workspace.store.trials(run_id)
            assert TrialStatus.RUNNING not in {t.status for t in trials}
            assert TrialStatus.INTERRUPTED in {t.status for t in trials}, "the fits it lost"
            wait_for(lambda: workers.poll() is not None, "the workers to leave with it", 60)
        finally:
            if not RunStatus(status_of(workspace, run_id)).finished:
                queue.cancel(workspace, run_id)
    with separate_cluster(port):  # the same address again: the run goes on there
        queue.resume(workspace, run_id)
        before = len(workspace.store.epochs(run_id))
        try:
            wait_for(
                lambda: len(workspace.store.epochs(run_id)) > before, "an epoch after the resume"
            )
        finally:
            queue.cancel(workspace, run_id)
            wait_for(lambda: RunStatus(status_of(workspace, run_id)).finished, "the cancel", 60)


def test_a_cluster_whose_workers_all_died_goes_on_when_new_ones_join(workspace, monkeypatch):
    """The run's data lived only on the workers: it is sent again to the new ones."""
    monkeypatch.setenv("LSTM_CORE_DASK_WORKERS_WAIT_S", "300")  # far longer than the test
    dataset_id = long_epochs_dataset(workspace)
    with separate_cluster() as (address, _, workers):
        run_id = queue.submit(workspace, one_text_batches(dataset_id, address, 2))
        wait_for(lambda: a_fit_trained_an_epoch(workspace, run_id), "a fit's first epoch")
        kill_group(workers)
        wait_for(
            lambda: (
                TrialStatus.INTERRUPTED in {t.status for t in workspace.store.trials(run_id)}
                or RunStatus(status_of(workspace, run_id)).finished
            ),
            "the run to see its fits lost",
        )
        assert status_of(workspace, run_id) == RunStatus.RUNNING
        again = start_workers(address)
        try:
            wait_for(lambda: RunStatus(status_of(workspace, run_id)).finished, "the run", 300)
        finally:
            kill_group(again)
        run = workspace.store.get_run(run_id)
        assert run.status == RunStatus.COMPLETED, run.error
        trials = workspace.store.trials(run_id)
        assert {t.status for t in trials} == {TrialStatus.COMPLETED, TrialStatus.INTERRUPTED}
        done = [(t.candidate, t.fold) for t in trials if t.status == TrialStatus.COMPLETED]
        assert len(done) == len(set(done)) == 5, "every fit once, the lost ones again"


def test_a_cluster_left_without_workers_fails_the_run_after_the_wait(workspace, monkeypatch):
    monkeypatch.setenv("LSTM_CORE_DASK_WORKERS_WAIT_S", "3")
    dataset_id = long_epochs_dataset(workspace)
    with separate_cluster() as (address, _, workers):
        run_id = queue.submit(workspace, one_text_batches(dataset_id, address))
        wait_for(lambda: a_fit_trained_an_epoch(workspace, run_id), "a fit's first epoch")
        kill_group(workers)
        killed = time.monotonic()
        wait_for(lambda: RunStatus(status_of(workspace, run_id)).finished, "the run", 120)
        waited = time.monotonic() - killed
        run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.FAILED
    one_plain_sentence(run.error, f"{address} has had no workers for 3 s", f"resume {run_id}")
    assert waited >= 3, "it waited for workers to come back"
    assert TrialStatus.RUNNING not in {t.status for t in workspace.store.trials(run_id)}
