"""The SQLite store's schema, its version, and the steps that bring an older file up to it.

The version lives in SQLite's `user_version`. Version 1 is the schema of the first wave
(no version written, runs kept scikit-learn's `cv_results_`, trials had no candidate
number and the refit had fold -1); version 2 gave trials their candidate and round;
version 3 records the machine and start time of a run's worker; version 4 gives runs a
name and a note and records each fit's accuracy beside its score; version 5 gives datasets
a note (their name could already change). Each step runs inside
the caller's transaction, so a database is either fully migrated or left as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from lstm_core.store.store_errors import NewerSchema

SCHEMA_VERSION = 5
ARCHIVED_SINCE = 3  # the version from which every change is copied into run folders

SCHEMA = """
CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    text_column TEXT NOT NULL,
    label_column TEXT NOT NULL,
    rows INTEGER NOT NULL,
    class_counts TEXT NOT NULL,
    created_at REAL NOT NULL,
    note TEXT
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    heartbeat_at REAL,
    started_at REAL,
    finished_at REAL,
    trials_total INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    traceback TEXT,
    result TEXT,
    worker_host TEXT,
    worker_start INTEGER,
    name TEXT,
    note TEXT
);
CREATE INDEX runs_by_status ON runs(status, created_at);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id),
    candidate INTEGER,
    round INTEGER NOT NULL DEFAULT 0,
    fold INTEGER,
    params TEXT NOT NULL,
    n_train INTEGER NOT NULL,
    epochs_planned INTEGER NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    worker TEXT,
    started_at REAL NOT NULL,
    finished_at REAL,
    progress REAL NOT NULL DEFAULT 0,
    score REAL,
    accuracy REAL
);
CREATE INDEX trials_by_run ON trials(run_id);
CREATE TABLE epochs (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    epoch INTEGER NOT NULL,
    loss REAL,
    accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    seconds REAL,
    logged_at REAL NOT NULL,
    PRIMARY KEY (trial_id, epoch)
);
"""


def schema_version(db: sqlite3.Connection) -> int:
    """0 for an empty database; 1 for the unversioned first schema."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version:
        return version
    tables = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
    return 1 if tables else 0


def upgrade(db: sqlite3.Connection) -> int:
    """Create or migrate the schema inside the open transaction; returns the version found."""
    found = schema_version(db)
    if found > SCHEMA_VERSION:
        raise NewerSchema(
            f"This workspace's database has schema version {found}, newer than this "
            f"version of the workbench knows ({SCHEMA_VERSION}); upgrade the workbench."
        )
    if found == SCHEMA_VERSION:
        return found
    if found == 0:
        _create(db, lambda statement: True)
    else:
        for version in range(found, SCHEMA_VERSION):
            STEPS[version](db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found


def _create(db: sqlite3.Connection, wanted) -> None:
    """Run the schema's statements that `wanted` accepts, one by one.

    (`executescript` would commit the caller's transaction first.)
    """
    for statement in SCHEMA.split(";"):
        if statement.strip() and wanted(statement):
            db.execute(statement)


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """Trials get a candidate number and a round, the refit fold NULL; cv_results goes.

    The candidate, round and score of each old cross-validation fit are read back from the
    run's stored `cv_results_`: the k-th fit of a configuration on a fold is that
    configuration's k-th row there (halving lists a survivor once per round). The old
    store attached a score to the latest fit of a configuration only; this recovers the
    others.
    """
    old_trials = db.execute("SELECT * FROM trials ORDER BY id").fetchall()
    tables = {
        row["id"]: json.loads(row["cv_results"]) if row["cv_results"] else None
        for row in db.execute("SELECT id, cv_results FROM runs")
    }
    db.execute("ALTER TABLE trials RENAME TO trials_v1")
    db.execute("ALTER TABLE epochs RENAME TO epochs_v1")
    db.execute("DROP INDEX IF EXISTS trials_by_run")
    new = ("CREATE TABLE trials", "CREATE INDEX trials_by_run", "CREATE TABLE epochs")
    _create(db, lambda statement: statement.strip().startswith(new))
    seen: dict[tuple, int] = defaultdict(int)
    first_seen: dict[str, dict[str, int]] = defaultdict(dict)
    for trial in old_trials:
        run_id, params = trial["run_id"], trial["params"]
        key = json.dumps(json.loads(params), sort_keys=True)
        fold = None if trial["fold"] < 0 else trial["fold"]
        candidate, round_, score = _from_cv_table(tables.get(run_id), key, fold, seen)
        if candidate is None:
            candidate = first_seen[run_id].setdefault(key, len(first_seen[run_id]))
            score = trial["score"]
        db.execute(
            "INSERT INTO trials (id, run_id, candidate, round, fold, params, n_train, "
            "epochs_planned, status, pid, started_at, finished_at, progress, score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                trial["id"],
                run_id,
                candidate,
                round_,
                fold,
                params,
                trial["n_train"],
                trial["epochs_planned"],
                trial["status"],
                trial["pid"],
                trial["started_at"],
                trial["finished_at"],
                trial["batch_progress"],
                score,
            ),
        )
    db.execute("INSERT INTO epochs SELECT * FROM epochs_v1")
    db.execute("DROP TABLE epochs_v1")
    db.execute("DROP TABLE trials_v1")
    db.execute("ALTER TABLE runs DROP COLUMN cv_results")


def _from_cv_table(table: dict | None, key: str, fold: int | None, seen: dict) -> tuple:
    """(candidate, round, score) of an old fit, from its run's cv_results_; Nones if absent."""
    if not table:
        return None, 0, None
    configs = [json.dumps(c, sort_keys=True) for c in table["config"]]
    rounds = table.get("iter") or [0] * len(configs)
    candidates: dict[str, int] = {}
    for config in configs:
        candidates.setdefault(config, len(candidates))
    rows = [i for i, config in enumerate(configs) if config == key]
    if not rows:
        return None, 0, None
    if fold is None:  # the refit: the best configuration, after its last round
        return candidates[key], max(rounds[i] for i in rows), None
    occurrence = seen[(id(table), key, fold)]
    seen[(id(table), key, fold)] += 1
    row = rows[min(occurrence, len(rows) - 1)]
    return candidates[key], rounds[row], table[f"split{fold}_test_score"][row]


def _v2_to_v3(db: sqlite3.Connection) -> None:
    """Runs record which machine their worker is on and when its process started, so a
    paused worker is told from a dead one (and a reused pid from its first owner)."""
    db.execute("ALTER TABLE runs ADD COLUMN worker_host TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN worker_start INTEGER")


def _v3_to_v4(db: sqlite3.Connection) -> None:
    """Runs get a name and a note a person gives them; fits record their accuracy too, so a
    run reports its CV accuracy beside the CV score of its metric (older fits have none)."""
    db.execute("ALTER TABLE runs ADD COLUMN name TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN note TEXT")
    columns = {row[1] for row in db.execute("PRAGMA table_info(trials)")}
    if "accuracy" not in columns:  # a v1 database got today's trials table in step 1
        db.execute("ALTER TABLE trials ADD COLUMN accuracy REAL")


def _v4_to_v5(db: sqlite3.Connection) -> None:
    """Datasets get a note, like runs ("the 2024 export, duplicates removed")."""
    db.execute("ALTER TABLE datasets ADD COLUMN note TEXT")


STEPS = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}
