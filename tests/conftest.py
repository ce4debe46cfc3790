"""Shared fixtures: a fresh workspace per test, small synthetic data, the real spam.csv."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Supervisors that tests start leave soon after their runs end, not 30 s later.
os.environ.setdefault("LSTM_CORE_SUPERVISOR_IDLE_S", "2")
# Workers do not stay warm after a test's run (each would hold TensorFlow in three processes
# for minutes); the tests of warm workers (test_standby.py) ask for them.
os.environ.setdefault("LSTM_CORE_WARM_S", "0")
SPAM_CSV = ROOT.parent / "shared" / "data" / "spam.csv"
SAMPLE_SMS = ROOT / "sample_data" / "sms_spam.csv"
SAMPLE_SENTIMENT = ROOT / "sample_data" / "sentiment.csv"


# The files that take longest (rough seconds on 2 cores, slow tests included, from
# --durations), started first: `--dist loadfile` gives each test process a whole file, so
# a long one that starts last keeps one process busy while the other has nothing left.
LONGEST_FIRST = [
    "test_background.py",  # 500: resumes after SIGKILL, five queued runs
    "test_page_matrix.py",  # 480: every kind of run, built once, on every page
    "test_cluster.py",  # 420
    "test_app.py",  # 220
    "test_cli.py",  # 200
    "test_reliability.py",  # 200
    "test_e2e.py",  # 130
    "test_deep_links.py",  # 100: ten cold servers
    "test_bayes_browser.py",  # 95
    "test_newcomer_browser.py",  # 80
    "test_standby.py",  # 80
    "test_transfer_browser.py",  # 75
    "test_typing_browser.py",  # 50
    "test_sign_in_browser.py",  # 40
]


def pytest_collection_modifyitems(items):
    """Longest files first (see LONGEST_FIRST); the rest, and each file's tests, keep their
    order. Both test processes sort alike, as xdist requires."""
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    from lstm_core.store.workspace import HOME_VARIABLE, Workspace

    monkeypatch.setenv(HOME_VARIABLE, str(tmp_path / "ws"))
    return Workspace()


@pytest.fixture(autouse=True)
def fresh_keras_state():
    """Only when a test already loaded Keras: never import TensorFlow for intake tests."""
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
        sys.modules["keras"].utils.set_random_seed(0)
    yield


@pytest.fixture
def spam_csv() -> Path:
    if not SPAM_CSV.exists():
        pytest.skip(f"the real SMS data is not at {SPAM_CSV}")
    return SPAM_CSV


def cli_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """`lstm-core ARGS` through the CLI's `main` in this test's process, on the test's
    `$LSTM_CORE_HOME`: the exit status and output a subprocess would give, without importing
    TensorFlow again for each command (5-6 s of a core each time). `test_cli.py` keeps the
    commands in real processes too."""
    from lstm_core.cli.main import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def toy_texts(n_per_class: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two easily separable classes of short texts (spam-like words vs everyday words)."""
    rng = np.random.default_rng(seed)
    spam_words = ["win", "prize", "cash", "claim", "free", "call", "now", "urgent"]
    ham_words = ["lunch", "home", "later", "mum", "see", "you", "tonight", "thanks"]
    texts, labels = [], []
    for label, words in (("spam", spam_words), ("ham", ham_words)):
        for _ in range(n_per_class):
            texts.append(" ".join(rng.choice(words, size=rng.integers(3, 9))))
            labels.append(label)
    return np.array(texts, dtype=object), np.array(labels, dtype=object)


TINY = {"units": 4, "embedding_dim": 4, "epochs": 1, "batch_size": 16, "max_tokens": 100}


def runs_on_two_data_sets(engine) -> dict:
    """A completed tiny run on each of two data sets that share the toy texts but not their
    labels (spam / ham and sad / glad), keyed by file name; the mood one is the newer.
    Trained once per test process and copied into `engine`'s workspace, which must be new:
    seven tests start from these two runs."""
    if not _TWO_DATA_SETS:
        source = Path(tempfile.mkdtemp(prefix="two-data-sets-")) / "ws"
        atexit.register(shutil.rmtree, source.parent, True)
        _TWO_DATA_SETS[source] = _train_on_two_data_sets(type(engine)(source))
    ((source, run_ids),) = _TWO_DATA_SETS.items()
    copy_workspace(source, engine.root)
    return {name: engine.run(run_id) for name, run_id in run_ids.items()}


_TWO_DATA_SETS: dict[Path, dict[str, str]] = {}


def _train_on_two_data_sets(engine) -> dict[str, str]:
    import pandas as pd

    from lstm_core.api import ExperimentSpec, RunStatus

    run_ids = {}
    for name, (first, second) in (("spam.csv", ("spam", "ham")), ("mood.csv", ("sad", "glad"))):
        texts, labels = toy_texts()
        labels = [first if label == "spam" else second for label in labels]
        frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
        dataset, _ = engine.freeze_dataset(frame, "text", "label", name)
        run = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, test_size=0.25))
        assert run.status == RunStatus.COMPLETED, run.error
        run_ids[name] = run.id
    return run_ids


def copy_workspace(source: Path, target: Path) -> None:
    """Copy a workspace that nothing writes to into a new one: its folders as they are, its
    store through SQLite's backup (a consistent copy, whatever its write-ahead log holds)."""
    from lstm_core.store.workspace import DATABASE_FILE

    assert not (target / DATABASE_FILE).exists(), f"{target} already has a store"
    ignore = shutil.ignore_patterns(f"{DATABASE_FILE}*")
    shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
    original = sqlite3.connect(source / DATABASE_FILE)
    copy = sqlite3.connect(target / DATABASE_FILE)
    try:
        original.backup(copy)
    finally:
        copy.close()
        original.close()


def toy_spam_run(engine, params: dict | None = None):
    """A completed tiny foreground run on the toy texts saved as 'spam.csv'."""
    import pandas as pd

    from lstm_core.api import ExperimentSpec, RunStatus

    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels})
    dataset = engine.freeze_dataset(frame, "text", "label", "spam.csv")[0]
    run = engine.train(ExperimentSpec(dataset.id, params=params or TINY, cv=0, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error
    return run


def tiny_spec(dataset_id: str, epochs: int = 1, **changes):
    """Two architectures x 2 folds of very small models, one fit at a time, on the toy data."""
    from lstm_core.domain.spec import ExperimentSpec

    settings = {
        "params": {**TINY, "epochs": epochs},
        "grid": {"arch": ["lstm", "gru"]},
        "cv": 2,
        "test_size": 0.25,
        "n_jobs": 1,
    }
    settings.update(changes)
    return ExperimentSpec(dataset_id, **settings)


@pytest.fixture
def toy_dataset(workspace):
    """A frozen toy dataset in the test workspace: (workspace, dataset_id)."""
    from lstm_core.data.datasets import LabelledTexts, freeze_dataset

    texts, labels = toy_texts()
    values, counts = np.unique(labels, return_counts=True)
    data = LabelledTexts(texts, labels, dict(zip(values.tolist(), counts.tolist(), strict=True)))
    return workspace, freeze_dataset(workspace, data, "toy", "text", "label").id


HOLD_THE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE runs SET note = 'half written'")
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def stopped_writer(toy_dataset):
    """A process that took the write lock in the middle of a write, then was stopped."""
    workspace, _ = toy_dataset
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(workspace.database)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGSTOP)
    yield holder
    if holder.poll() is None:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()
