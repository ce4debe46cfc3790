"""The run store: lifecycle rules, typed records, and a real SQLite file in WAL mode."""

from __future__ import annotations

import sqlite3

import pytest

from lstm_core.domain.entities import Dataset, Epoch, RunStatus, TrialStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.lifecycle import InvalidTransition
from lstm_core.store.migrations.sqlite import SCHEMA_VERSION
from lstm_core.store.store_url import open_store, sqlite_url

WORKER = WorkerIdentity(1, "here", None)


@pytest.fixture
def store(tmp_path):
    store = open_store(sqlite_url(tmp_path / "runs.sqlite"))
    store.add_dataset(Dataset("d1", "toy.csv", "text", "label", 10, {"a": 5, "b": 5}))
    return store


def new_run(store, **changes) -> str:
    return store.create_run(ExperimentSpec("d1", **changes), trials_total=5)


def open_trial(store, run_id, candidate=0, fold=0):
    return store.start_trial(
        run_id,
        candidate=candidate,
        round=0,
        fold=fold,
        params={"units": 8, "arch": "gru"},
        n_train=80,
        epochs_planned=2,
        pid=1,
        worker="local",
    )


def test_database_is_a_versioned_wal_file_on_disk(store):
    with sqlite3.connect(store.backend.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_run_lifecycle_and_refused_transitions(store):
    run_id = new_run(store, cv=2)
    run = store.get_run(run_id)
    assert run.status == RunStatus.QUEUED and run.status.active
    assert (run.spec.cv, run.dataset.name, run.dataset.label_column) == (2, "toy.csv", "label")
    with pytest.raises(InvalidTransition, match="cannot go from queued to completed"):
        store.complete_run(run_id, None)
    store.start_run(run_id, WorkerIdentity(123, "here", None), trials_total=5)
    assert (store.get_run(run_id).status, store.get_run(run_id).pid) == (RunStatus.RUNNING, 123)
    store.fail_run(run_id, "ValueError: boom", "Traceback ...")
    run = store.get_run(run_id)
    assert (run.status, run.error, run.traceback) == (
        RunStatus.FAILED,
        "ValueError: boom",
        "Traceback ...",
    )
    assert run.status.finished and run.status.resumable
    with pytest.raises(InvalidTransition):
        store.start_run(run_id, WORKER, trials_total=5)


def test_a_run_that_ends_ends_its_running_fits(store):
    run_id = new_run(store)
    store.start_run(run_id, WORKER, trials_total=5)
    done, running = open_trial(store, run_id, fold=0), open_trial(store, run_id, fold=1)
    store.finish_trial(done, TrialStatus.COMPLETED, 0.75)
    store.interrupt_run(run_id, "the worker died")
    statuses = {t.id: t.status for t in store.trials(run_id)}
    assert statuses == {done: TrialStatus.COMPLETED, running: TrialStatus.INTERRUPTED}


def test_resume_requeues_an_ended_run_and_keeps_its_fits(store):
    run_id = new_run(store)
    store.start_run(run_id, WORKER, trials_total=5)
    open_trial(store, run_id)
    store.request_cancel(run_id)
    store.cancel_run(run_id)
    store.requeue_run(run_id)
    run = store.get_run(run_id)
    assert (run.status, run.pid, run.finished_at, run.error) == (RunStatus.QUEUED, None, None, None)
    assert not store.cancel_requested(run_id), "a resumed run is not cancelled at once"
    assert len(store.trials(run_id)) == 1
    with pytest.raises(InvalidTransition):
        store.requeue_run(run_id)  # queued already


def test_trials_epochs_and_scores_are_typed(store):
    run_id = new_run(store)
    trial = open_trial(store, run_id, candidate=3, fold=1)
    store.log_epochs(
        [
            Epoch(trial, 0, loss=0.7, accuracy=0.5, val_loss=0.69, seconds=1.5),
            Epoch(trial, 1, loss=0.4, accuracy=0.8, seconds=1.2),
        ]
    )
    store.finish_trial(trial, TrialStatus.COMPLETED, 0.75)
    refit = open_trial(store, run_id, candidate=3, fold=None)
    (row, again) = store.trials(run_id)
    assert (row.candidate, row.fold, row.status, row.score, row.progress) == (
        3,
        1,
        "completed",
        0.75,
        1,
    )
    assert row.params == {"arch": "gru", "units": 8}
    assert (again.id, again.fold, again.is_refit) == (refit, None, True)
    epochs = store.epochs(run_id)
    assert [e.loss for e in epochs] == [0.7, 0.4]
    assert epochs[1].val_loss is None and epochs[1].metrics() == {"loss": 0.4, "accuracy": 0.8}
    assert store.list_runs()[0].trials_done == 1


def test_delete_removes_rows_and_refuses_an_active_run(store):
    kept, gone = new_run(store), new_run(store)
    store.start_run(kept, WORKER, trials_total=5)
    trial = open_trial(store, gone)
    store.log_epochs([Epoch(trial, 0, loss=1.0)])
    with pytest.raises(InvalidTransition, match="is running"):
        store.delete_run(kept)
    store.cancel_run(gone)
    store.delete_run(gone)
    assert store.get_run(gone) is None and store.trials(gone) == [] and store.epochs(gone) == []
    assert [r.id for r in store.list_runs()] == [kept]


def test_a_dataset_in_use_cannot_be_deleted(store):
    run_id = new_run(store)
    with pytest.raises(InvalidTransition, match="used by 1 run"):
        store.delete_dataset("d1")
    store.cancel_run(run_id)
    store.delete_run(run_id)
    store.delete_dataset("d1")
    assert store.get_dataset("d1") is None and store.list_datasets() == []


def test_cancel_request_is_visible_to_another_connection(store):
    run_id = new_run(store)
    assert not store.cancel_requested(run_id)
    store.request_cancel(run_id)
    assert open_store(sqlite_url(store.backend.path)).cancel_requested(run_id)
