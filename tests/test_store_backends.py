"""The store behind a URL: rules decided above the backend, SQLite's errors kept inside it."""

from __future__ import annotations

import ast
import contextlib
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from lstm_core.api import Engine, UserError
from lstm_core.domain.entities import Dataset, Epoch, RunStatus, TrialStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.lifecycle import (
    InvalidTransition,
    RunState,
    RunTakenAway,
    check_move,
    may_attach,
)
from lstm_core.store.store_errors import StoreError
from lstm_core.store.store_url import STORE_URL_VARIABLE, open_store, sqlite_url
from lstm_core.store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
WORKER = WorkerIdentity(7, "here", 100)
OTHER = WorkerIdentity(8, "here", 100)


@pytest.fixture
def store(tmp_path):
    store = open_store(sqlite_url(tmp_path / "runs.sqlite"))
    store.add_dataset(Dataset("d1", "toy.csv", "text", "label", 10, {"a": 5, "b": 5}))
    return store


def open_fit(store, run_id, candidate, fold, owner=None) -> int:
    return store.start_trial(
        run_id,
        candidate=candidate,
        round=0,
        fold=fold,
        params={"units": 8, "arch": "gru"},
        n_train=8,
        epochs_planned=1,
        pid=None,
        worker="local",
        owner=owner,
    )


def test_transitions_and_ownership_are_decided_without_a_backend():
    running = RunState(RunStatus.RUNNING, WORKER.pid, WORKER.host, WORKER.started)
    check_move("r", running, RunStatus.COMPLETED, WORKER)
    with pytest.raises(RunTakenAway, match="no longer this process's"):
        check_move("r", running, RunStatus.COMPLETED, OTHER)
    with pytest.raises(InvalidTransition, match="cannot go from queued to completed"):
        check_move("r", RunState(RunStatus.QUEUED), RunStatus.COMPLETED, None)
    with pytest.raises(InvalidTransition, match="from missing"):
        check_move("r", None, RunStatus.CANCELLED, None)
    claimed = RunState(RunStatus.RUNNING)
    assert may_attach(claimed, OTHER) and may_attach(running, WORKER)
    assert not may_attach(running, OTHER), "another process holds it"


def test_a_write_from_a_process_that_lost_its_run_writes_nothing(store):
    run_id = store.create_run(ExperimentSpec("d1"), trials_total=2, running=WORKER)
    mine = open_fit(store, run_id, 0, 0, owner=WORKER)
    with pytest.raises(RunTakenAway):
        open_fit(store, run_id, 1, 0, owner=OTHER)
    with pytest.raises(RunTakenAway):
        store.log_epochs([Epoch(mine, 0, loss=1.0)], owner=OTHER)
    with pytest.raises(RunTakenAway):
        store.finish_trial(mine, TrialStatus.COMPLETED, 0.5, owner=OTHER)
    with pytest.raises(RunTakenAway):
        store.heartbeat(run_id, OTHER)
    assert [t.status for t in store.trials(run_id)] == [TrialStatus.RUNNING]
    assert store.epochs(run_id) == []
    store.log_epochs([Epoch(mine, 0, loss=1.0)], owner=WORKER)
    store.complete_run(run_id, None, WORKER)
    with pytest.raises(RunTakenAway):
        store.log_epochs([Epoch(mine, 1, loss=0.5)], owner=WORKER)
    assert len(store.epochs(run_id)) == 1


def test_the_runs_list_counts_fits_as_progress_does(store):
    from lstm_core.insight.progress import fits_done

    run_id = store.create_run(ExperimentSpec("d1", cv=2), trials_total=5)
    for candidate, fold, status in (
        (0, 0, TrialStatus.COMPLETED),
        (0, 1, TrialStatus.COMPLETED),
        (1, 0, TrialStatus.COMPLETED),
        (1, 1, TrialStatus.PRUNED),
        (2, 0, TrialStatus.FAILED),
        (0, None, TrialStatus.COMPLETED),
    ):
        store.finish_trial(open_fit(store, run_id, candidate, fold), status, 0.5)
    run = store.list_runs()[0]
    # candidate 0's two folds and its refit, and both folds of the pruned candidate 1
    assert run.trials_done == 5 == fits_done(run, store.trials(run_id))
    assert store.get_run(run_id).trials_done == 5


def test_the_workspace_opens_its_store_from_a_url(tmp_path, monkeypatch):
    monkeypatch.delenv(STORE_URL_VARIABLE, raising=False)
    home = Workspace(tmp_path / "home")
    assert home.store_url == f"sqlite:///{tmp_path / 'home' / 'runs.sqlite'}"
    assert home.database == tmp_path / "home" / "runs.sqlite"

    elsewhere = tmp_path / "shared" / "runs.sqlite"
    monkeypatch.setenv(STORE_URL_VARIABLE, f" sqlite:///{elsewhere} ")
    moved = Workspace(tmp_path / "moved")
    moved.store.add_dataset(Dataset("d1", "toy.csv", "text", "label", 10))
    assert moved.database == elsewhere and elsewhere.exists()
    assert not (tmp_path / "moved" / "runs.sqlite").exists()
    assert (tmp_path / "moved" / "datasets" / "d1" / "dataset.json").exists(), "folders stay"

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(STORE_URL_VARIABLE, "sqlite:///shared/runs.sqlite")  # relative
    assert [d.id for d in Workspace(tmp_path / "third").store.list_datasets()] == ["d1"]


@pytest.mark.parametrize("url", ["postgresql://db.example/runs", "runs.sqlite", "sqlite://"])
def test_a_store_url_that_names_no_known_store_is_one_sentence(tmp_path, monkeypatch, url):
    monkeypatch.setenv(STORE_URL_VARIABLE, url)
    with pytest.raises(UserError) as raised:
        Engine(tmp_path).runs()
    sentence = str(raised.value)
    assert "\n" not in sentence and "sqlite:///" in sentence, sentence
    assert not (tmp_path / "runs.sqlite").exists()


def test_a_sqlite_error_without_a_sentence_leaves_the_store_as_the_stores_own(store):
    run_id = store.create_run(ExperimentSpec("d1"), trials_total=1)
    with sqlite3.connect(store.backend.path) as db:
        db.execute("DROP TABLE epochs")
    with pytest.raises(StoreError, match="no such table: epochs") as raised:
        store.epochs(run_id)
    assert not isinstance(raised.value, sqlite3.Error)


# what only the store may import: the driver, its backends, and the SQLite lock reader
STORE_INSIDES = ("sqlite3", "lstm_core.store.backends", "lstm_core.store.lock_holder")


def _imports_store_insides(path: Path) -> list[int]:
    """Lines that import sqlite3, a backend or the lock reader, at any depth (inside
    functions too), however they are spelled (`from lstm_core.store import backends`)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == inside or name.startswith(inside + ".") for name in names
               for inside in STORE_INSIDES):  # fmt: skip
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_store_reaches_sqlite_or_a_backend():
    store = ROOT / "lstm_core" / "store"
    sources = [ROOT / "app.py"]
    for folder in ("lstm_core", "pages", "dashboard"):
        sources += sorted((ROOT / folder).rglob("*.py"))
    outside = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if store not in path.parents and (lines := _imports_store_insides(path))
    }
    assert outside == {}, "SQLite, its lock and the backends belong to the store"
    for module in ("backends/sqlite.py", "store_url.py", "store_errors.py"):
        assert _imports_store_insides(store / module), f"the check sees {module}'s import"


def test_the_workspace_names_a_stopped_writer_without_opening_its_store(stopped_writer, workspace):
    """The pages, the supervisor and `doctor` ask the workspace's store place, never the
    file: it names a writer stopped inside a write, and waits on nothing."""
    place = workspace.store_place
    holder = place.writer()
    assert holder is not None and holder.pid == stopped_writer.pid and holder.stopped
    assert place.stopped_writer() == (
        f"The workspace is busy: process {holder.pid}, {holder.role}, is stopped while it "
        f"holds the write lock of {workspace.database}; continue it (kill -CONT "
        f"{holder.pid}) or end it, then try again."
    )
    assert place.exists() and place.problem() is None


def test_a_damaged_store_is_checked_and_moved_aside_unopened(tmp_path):
    workspace = Workspace(tmp_path)
    place = workspace.store_place
    assert not place.exists() and place.problem() is None and place.writer() is None
    workspace.database.write_bytes(b"not a database at all" * 100)
    assert "cannot be read" in place.problem()
    with pytest.raises(UserError, match="is damaged"):
        place.open()
    aside = Path(place.move_aside())
    assert aside.read_bytes().startswith(b"not a database") and not place.exists()
    assert aside.name.startswith("runs.sqlite.damaged-")


def test_a_new_workspace_s_database_appears_whole(tmp_path):
    """A reader polling for a new workspace (the dashboard beside a first `lstm-core train`)
    never meets the database empty or half-made: it appears with its schema in one step."""
    home = tmp_path / "ws"
    path = home / "runs.sqlite"
    sizes: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                sizes.append(path.stat().st_size)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(20):
            shutil.rmtree(home, ignore_errors=True)
            Workspace(home).store.upgrade(anew=True)
    finally:
        done.set()
        watcher.join()
    assert sizes and 0 not in sizes
    assert sorted(p.name for p in home.iterdir() if "runs.sqlite" in p.name) == ["runs.sqlite"]
