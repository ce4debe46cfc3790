"""A workspace made by the previous schema opens, migrates, and keeps every run."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from lstm_core.api import Engine, RunStatus, UserError
from lstm_core.store.migrations.sqlite import SCHEMA_VERSION
from lstm_core.store.store_errors import NewerSchema

FIXTURE = Path(__file__).parent / "fixtures" / "workspace_v1"


@pytest.fixture
def old_workspace(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "ws"))


def old_tables(root: Path) -> dict:
    """What the old database says, read with plain SQL before anything migrates it."""
    with sqlite3.connect(root / "runs.sqlite") as db:
        db.row_factory = sqlite3.Row
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        runs = {r["id"]: dict(r) for r in db.execute("SELECT * FROM runs")}
        trials = [dict(r) for r in db.execute("SELECT * FROM trials ORDER BY id")]
    return {"runs": runs, "trials": trials}


def test_every_run_survives_with_its_status_result_and_model(old_workspace):
    before = old_tables(old_workspace)
    engine = Engine(old_workspace)
    runs = {run.id: run for run in engine.runs()}
    assert set(runs) == set(before["runs"])
    for run_id, old in before["runs"].items():
        run = runs[run_id]
        assert run.status == RunStatus(old["status"])
        assert (run.dataset.name, run.dataset.text_column, run.dataset.rows) == (
            "toy.csv",
            "text",
            60,
        )
        result = engine.result(run_id)
        if old["result"] is None:
            assert result is None
            continue
        stored = json.loads(old["result"])
        assert result.best_params == stored["best_params"]
        assert result.test.accuracy == stored["test"]["accuracy"]
        assert (
            result.test.per_class["spam"].support == stored["test"]["per_class"]["spam"]["support"]
        )
        assert result.test.roc_curve.fpr == stored["test"]["roc_curve"]["fpr"]
        labels = {p.label for p in engine.predict(run_id, ["win cash now", "see you at home"])}
        assert labels <= {"spam", "ham"}
    with sqlite3.connect(old_workspace / "runs.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_old_fits_get_their_candidate_round_and_score_from_cv_results(old_workspace):
    before = old_tables(old_workspace)
    engine = Engine(old_workspace)
    for run_id, old in before["runs"].items():
        if old["cv_results"] is None:
            continue
        table = json.loads(old["cv_results"])
        rounds = table.get("iter", [0] * len(table["config"]))
        candidates = engine.candidates(run_id)
        assert len(candidates) == len(table["config"])  # one per configuration and round
        for row, config in enumerate(table["config"]):
            (match,) = [c for c in candidates if c.config == config and c.round == rounds[row]]
            folds = [table[f"split{f}_test_score"][row] for f in range(len(match.fold_scores))]
            assert match.fold_scores == pytest.approx(folds)
            assert match.mean_score == pytest.approx(table["mean_test_score"][row])
        trials = engine.trials(run_id)
        old_trials = [t for t in before["trials"] if t["run_id"] == run_id]
        assert [t.id for t in trials] == [t["id"] for t in old_trials]
        (refit,) = [t for t in trials if t.is_refit]
        assert refit.params == engine.result(run_id).best_config


def test_opening_twice_changes_nothing_more(old_workspace):
    first = [
        (t.id, t.candidate, t.round, t.fold, t.score) for t in _all_trials(Engine(old_workspace))
    ]
    again = [
        (t.id, t.candidate, t.round, t.fold, t.score) for t in _all_trials(Engine(old_workspace))
    ]
    assert first == again


def test_a_database_from_a_newer_version_is_refused_not_changed(tmp_path):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(NewerSchema, match="upgrade the workbench"):
        Engine(tmp_path).runs()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def _all_trials(engine: Engine):
    return [t for run in engine.runs() for t in engine.trials(run.id)]


def test_old_epochs_survive_and_an_old_cancelled_run_can_be_resumed(old_workspace):
    before = old_tables(old_workspace)
    with sqlite3.connect(old_workspace / "runs.sqlite") as db:
        old_epochs = db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
    engine = Engine(old_workspace)
    assert sum(len(engine.epochs(run.id)) for run in engine.runs()) == old_epochs > 0
    assert (old_workspace / "runs.sqlite.v1").exists(), "a copy of the old database is kept"
    (cancelled,) = [r for r, row in before["runs"].items() if row["status"] == "cancelled"]
    assert engine.resume(cancelled).status.active
    deadline = time.monotonic() + 180
    while engine.run(cancelled).status.active and time.monotonic() < deadline:
        time.sleep(0.5)
    assert engine.run(cancelled).status == RunStatus.COMPLETED, engine.run(cancelled).error
    assert engine.result(cancelled).test.n_test == 15


def test_a_version_3_workspace_gains_names_notes_and_fit_accuracy(tmp_path):
    """(It passes through version 4 to 5: datasets gain a note too.)"""
    root = Path(shutil.copytree(FIXTURE.parent / "workspace_v3", tmp_path / "ws"))
    with sqlite3.connect(root / "runs.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        old_scores = [r[0] for r in db.execute("SELECT score FROM trials ORDER BY id")]
    engine = Engine(root)
    (run,) = engine.runs()
    assert (run.status, run.name, run.note, run.title) == (RunStatus.COMPLETED, None, None, run.id)
    assert [t.score for t in engine.trials(run.id)] == old_scores
    assert all(t.accuracy is None for t in engine.trials(run.id)), "old fits have no accuracy"
    result = engine.result(run.id)
    assert (result.majority, result.cv_accuracy) == (None, None)
    assert result.cv() == {"scoring": "f1_macro", "score": result.cv_best_score, "accuracy": None}
    assert (root / "runs.sqlite.v3").exists(), "a copy of the old database is kept"
    named = engine.describe_run(run.id, name="toy spam, LSTM vs GRU")
    assert (named.title, engine.describe_run(run.id, note="from the fixture").note) == (
        "toy spam, LSTM vs GRU",
        "from the fixture",
    )
    dataset = engine.describe_dataset(run.dataset.id, name="  toy   spam ", note="made by a test")
    assert (dataset.name, dataset.note) == ("toy spam", "made by a test")
    assert engine.run(run.id).dataset.name == "toy spam", "run lists show the new name"
    with pytest.raises(UserError, match="needs a name"):
        engine.describe_dataset(dataset.id, name=" ")
    # the names live in the run's and the dataset's folders too: a rebuilt database keeps them
    (root / "runs.sqlite").write_bytes(b"")
    assert engine.doctor(repair=True).ok
    (rebuilt,) = Engine(root).runs()
    assert (rebuilt.name, rebuilt.note) == ("toy spam, LSTM vs GRU", "from the fixture")
    assert (rebuilt.dataset.name, rebuilt.dataset.note) == ("toy spam", "made by a test")
