"""Warm workers: TensorFlow and fit processes ready before Launch, kept between runs."""

from __future__ import annotations

import pytest
from conftest import tiny_spec
from test_background import wait_for

from lstm_core.api import RunStatus
from lstm_core.domain.processes import process_alive
from lstm_core.jobs import queue, standby


@pytest.fixture
def warm(toy_dataset, monkeypatch):
    """Warm workers on for this test's workspace; stopped (and waited for) afterwards."""
    monkeypatch.setenv(standby.WARM_VARIABLE, "120")
    workspace, dataset_id = toy_dataset
    yield workspace, dataset_id
    for run in workspace.store.runs_with_status(RunStatus.RUNNING):
        queue.cancel(workspace, run.id)
    pid = standby.stop(workspace)
    if pid is not None:
        wait_for(lambda: not process_alive(pid), "the warm worker to exit", 30)


def fit_pids(workspace, run_id: str) -> set[int]:
    return {t.pid for t in workspace.store.trials(run_id)}


def finished(workspace, run_id: str):
    run = wait_for(
        lambda: not (r := workspace.store.get_run(run_id)).status.active and r,
        f"run {run_id} to end",
    )
    return run


def test_a_reader_starts_a_warm_worker_that_takes_runs_with_the_same_processes(warm):
    workspace, dataset_id = warm
    queue.refresh(workspace)  # what the dashboard does when a page opens
    wait_for(lambda: standby.waiting(workspace), "a warm worker waiting for runs", 90)
    worker = int((workspace.root / standby.LOCK_FILE).read_text())
    queue.refresh(workspace)
    assert int((workspace.root / standby.LOCK_FILE).read_text()) == worker, "one per workspace"

    spec = tiny_spec(dataset_id, n_jobs=2)
    first = finished(workspace, queue.submit(workspace, spec))
    assert first.status == RunStatus.COMPLETED, first.error
    assert first.pid == worker, "the warm worker trained it, no new worker was started"
    second = finished(workspace, queue.submit(workspace, spec))
    assert second.status == RunStatus.COMPLETED, second.error
    assert second.pid == worker
    assert fit_pids(workspace, second.id) == fit_pids(workspace, first.id), (
        "the fit processes stayed warm between the runs"
    )
    assert "taken by the warm worker" in workspace.worker_log(second.id).read_text()

    fits = fit_pids(workspace, second.id)
    assert standby.stop(workspace) == worker
    wait_for(lambda: not process_alive(worker), "the warm worker to exit", 30)
    wait_for(
        lambda: not any(process_alive(p) for p in fits),
        "its fit processes to exit (no orphans)",
        30,
    )


def test_after_a_cancel_the_warm_worker_trains_the_next_run(warm):
    workspace, dataset_id = warm
    long_run = queue.submit(workspace, tiny_spec(dataset_id, epochs=400, n_jobs=2))
    wait_for(lambda: workspace.store.epochs(long_run), "the first epoch")
    worker = workspace.store.get_run(long_run).pid
    queue.cancel(workspace, long_run)
    assert finished(workspace, long_run).status == RunStatus.CANCELLED
    wait_for(lambda: standby.waiting(workspace), "the worker waiting, warm, after the cancel")

    after = finished(workspace, queue.submit(workspace, tiny_spec(dataset_id, n_jobs=2)))
    assert after.status == RunStatus.COMPLETED, after.error
    assert after.pid == worker


def test_a_warm_worker_leaves_when_nothing_comes(warm, monkeypatch):
    workspace, dataset_id = warm
    monkeypatch.setenv(standby.WARM_VARIABLE, "1")
    run = finished(workspace, queue.submit(workspace, tiny_spec(dataset_id, n_jobs=2)))
    assert run.status == RunStatus.COMPLETED, run.error
    fits = fit_pids(workspace, run.id)
    wait_for(lambda: not process_alive(run.pid), "the idle worker to leave", 60)
    wait_for(lambda: not any(process_alive(p) for p in fits), "its fit processes to leave", 30)
    assert not standby.alive(workspace)


def test_a_run_queued_behind_another_is_taken_warm_by_the_worker_that_finished(warm):
    """The supervisor looks every second: it must leave the queued run to the worker that
    is finishing, not start a cold one."""
    workspace, dataset_id = warm
    first = queue.submit(workspace, tiny_spec(dataset_id, n_jobs=2))
    second = queue.submit(workspace, tiny_spec(dataset_id, n_jobs=2, seed=3))
    runs = [finished(workspace, first), finished(workspace, second)]
    assert [r.status for r in runs] == [RunStatus.COMPLETED] * 2, [r.error for r in runs]
    assert runs[0].pid == runs[1].pid
    assert fit_pids(workspace, first) == fit_pids(workspace, second)
