"""Shared fixtures: a fresh workspace per test, small synthetic data, the real spam.csv."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
    labels (spam / ham and sad / glad), keyed by file name; the mood one is the newer."""
    import pandas as pd

    from lstm_core.api import ExperimentSpec, RunStatus

    runs = {}
    for name, (first, second) in (("spam.csv", ("spam", "ham")), ("mood.csv", ("sad", "glad"))):
        texts, labels = toy_texts()
        labels = [first if label == "spam" else second for label in labels]
        frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
        dataset, _ = engine.freeze_dataset(frame, "text", "label", name)
        runs[name] = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, test_size=0.25))
        assert runs[name].status == RunStatus.COMPLETED, runs[name].error
    return runs


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
