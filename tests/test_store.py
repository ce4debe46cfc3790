"""The run store: lifecycle rules, metrics, and a real SQLite file in WAL mode."""

from __future__ import annotations

import sqlite3

import pytest

from lstm_core.store import InvalidTransition, RunStore


@pytest.fixture
def store(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    store.add_dataset("d1", "toy", "text", "label", 10, {"a": 5, "b": 5})
    return store


def test_database_is_a_wal_file_on_disk(store):
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_run_lifecycle_and_refused_transitions(store):
    run_id = store.create_run({"x": 1}, "d1", 5)
    assert store.get_run(run_id)["status"] == "queued"
    with pytest.raises(InvalidTransition, match="cannot go from queued to completed"):
        store.complete_run(run_id, {}, {})
    store.start_run(run_id, pid=123, trials_total=5)
    run = store.get_run(run_id)
    assert (run["status"], run["pid"], run["spec"]) == ("running", 123, {"x": 1})
    store.fail_run(run_id, "ValueError: boom", "Traceback ...")
    run = store.get_run(run_id)
    assert (run["status"], run["error"], run["traceback"]) == (
        "failed",
        "ValueError: boom",
        "Traceback ...",
    )
    with pytest.raises(InvalidTransition):
        store.start_run(run_id, pid=1, trials_total=5)


def test_trials_epochs_and_scores(store):
    run_id = store.create_run({}, "d1")
    trial = store.start_trial(
        run_id, {"units": 8, "arch": "gru"}, fold=1, n_train=80, epochs_planned=2
    )
    store.log_epoch(trial, 0, {"loss": 0.7, "accuracy": 0.5, "val_loss": 0.69}, 1.5)
    store.log_epoch(trial, 1, {"loss": 0.4, "accuracy": 0.8}, 1.2)
    store.finish_trial(trial)
    store.set_trial_scores(run_id, [({"arch": "gru", "units": 8}, 1, 0.75)])
    (row,) = store.trials(run_id)
    assert (row["status"], row["score"], row["params"]["units"], row["batch_progress"]) == (
        "completed",
        0.75,
        8,
        1,
    )
    epochs = store.epochs(run_id)
    assert [e["loss"] for e in epochs] == [0.7, 0.4]
    assert epochs[1]["val_loss"] is None
    assert store.list_runs()[0]["trials_done"] == 1


def test_cancel_request_is_visible_to_another_connection(store):
    run_id = store.create_run({}, "d1")
    assert not store.cancel_requested(run_id)
    store.request_cancel(run_id)
    assert RunStore(store.path).cancel_requested(run_id)
