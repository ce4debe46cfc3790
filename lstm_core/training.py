"""Run one experiment from its stored spec to a bundle: split, search, refit, evaluate.

`execute_run` is what a worker process calls; it is the only writer of that run's status,
and whatever happens the run ends `completed`, `cancelled` or `failed` (with the error
and traceback kept for the dashboard). scikit-learn and Keras load only when a run trains,
so the dashboard's start-up path (which submits and watches runs) stays light.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import statistics
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from lstm_core.datasets import load_dataset
from lstm_core.errors import RunCancelled, UserError
from lstm_core.spec import ExperimentSpec
from lstm_core.store import QUEUED, RUNNING
from lstm_core.validation import min_examples_per_class
from lstm_core.workspace import Workspace

_PIPELINE_PREFIXES = ("clf__model__", "clf__", "vec__")
HEARTBEAT_S = 5.0
log = logging.getLogger("lstm_core")


def submit_run(workspace: Workspace, spec: ExperimentSpec, foreground: bool = False) -> str:
    """Validate the spec against its dataset and store it as a queued run.

    A `foreground` run is stored as already running in this process, so no dispatcher
    starts a worker for it.
    """
    spec = spec.validated()
    dataset = workspace.store.get_dataset(spec.dataset_id)
    if dataset is None:
        raise UserError(
            f"Dataset {spec.dataset_id} is not in this workspace; load and confirm it first."
        )
    needed = min_examples_per_class(spec.cv, spec.test_size)
    rare = {k: v for k, v in dataset["class_counts"].items() if v < needed}
    if rare:
        label, count = next(iter(rare.items()))
        raise UserError(
            f"Class '{label}' has only {count} example(s), but cv = {spec.cv} with a "
            f"{spec.test_size:.0%} test split needs at least {needed}; use fewer folds."
        )
    running_pid = os.getpid() if foreground else None
    return workspace.store.create_run(spec.to_dict(), spec.dataset_id, spec.n_fits(), running_pid)


def people_names(pipeline_params: dict) -> dict:
    """`clf__model__units` -> `units`; the classifier's copy of the vectorizer settings is skipped."""
    named = {}
    for key, value in pipeline_params.items():
        if key == "clf__preprocessing":
            continue
        prefix = next(p for p in _PIPELINE_PREFIXES if key.startswith(p))
        named[key[len(prefix) :]] = value
    return named


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _cv_table(search) -> dict:
    """cv_results_ as JSON: scores and times per candidate, with full configurations."""
    from lstm_core.search import candidate_params

    results = search.cv_results_
    keep = [k for k in results if not k.startswith("param") and k != "params"]
    table = {k: _jsonable(np.asarray(results[k]).tolist()) for k in keep}
    table["params"] = [_jsonable(people_names(p)) for p in results["params"]]
    table["config"] = [_jsonable(candidate_params(search, p)) for p in results["params"]]
    return table


def _trial_scores(table: dict, n_splits: int) -> list[tuple[dict, int, float]]:
    """(configuration, fold, score) for every candidate scored on every fold."""
    return [
        (config, fold, table[f"split{fold}_test_score"][i])
        for fold in range(n_splits)
        for i, config in enumerate(table["config"])
        if table[f"split{fold}_test_score"][i] is not None
    ]


def _train_and_evaluate(
    workspace: Workspace, run_id: str, spec: ExperimentSpec
) -> tuple[dict, dict]:
    from lstm_core.fit_workers import WorkerStart

    # Parallel fit workers start first and import TensorFlow while this process does.
    workers = WorkerStart(spec.effective_n_jobs()) if spec.effective_n_jobs() > 1 else None
    from sklearn.model_selection import train_test_split

    from lstm_core.bundle import save_bundle
    from lstm_core.classifier import TrialReporter
    from lstm_core.evaluation import baseline, evaluate
    from lstm_core.search import best_for_refit, fold_of_each_row, make_search, make_splitter

    store = workspace.store
    data = load_dataset(workspace, spec.dataset_id)
    x_train, x_test, y_train, y_test = train_test_split(
        data.texts,
        data.labels,
        test_size=spec.test_size,
        stratify=data.labels,
        random_state=spec.seed,
    )
    counts = Counter(y_train.tolist())
    minority = min(counts, key=counts.get)
    reporter = TrialReporter(store.path, run_id, fold_of_each_row(make_splitter(spec), y_train))
    search = make_search(spec, reporter)
    started = time.perf_counter()
    if workers is not None:
        log.info("fit workers ready: pids %s", " ".join(map(str, sorted(set(workers.wait())))))
    grid_started = time.perf_counter()
    search.fit(x_train, y_train, clf__row_ids=np.arange(len(x_train)))
    grid_seconds = time.perf_counter() - grid_started
    best = best_for_refit(search).fit(x_train, y_train)
    search_seconds = time.perf_counter() - started
    classes = [str(c) for c in best.classes_]
    test = evaluate(y_test, best.predict_proba(x_test), classes, minority)
    base = baseline(x_train, y_train, x_test, y_test, minority, spec.seed)
    table = _cv_table(search)
    store.set_trial_scores(run_id, _trial_scores(table, spec.n_splits()))
    epoch_seconds = [e["seconds"] for e in store.epochs(run_id) if e["seconds"] is not None]
    vectorizer = best.named_steps["vec"]
    result = {
        "best_params": _jsonable(people_names(search.best_params_)),
        "best_config": _jsonable(best.named_steps["clf"].trial_params()),
        "cv_best_score": float(search.best_score_),
        "scoring": spec.scoring,
        "test": test,
        "baseline": base,
        "n_train": len(x_train),
        "n_test": len(x_test),
        "sequence_length": vectorizer.sequence_length_,
        "longest_text_tokens": vectorizer.longest_,
        "vocabulary_size": vectorizer.vocabulary_size_,
        "search_seconds": round(search_seconds, 2),
        "grid_seconds": round(grid_seconds, 2),
        "median_epoch_seconds": round(statistics.median(epoch_seconds), 3)
        if epoch_seconds
        else None,
        "fits": len(store.trials(run_id)),
    }
    save_bundle(
        workspace.bundle_dir(run_id),
        best.named_steps["clf"].model_,
        vectorizer,
        classes,
        spec.to_dict(),
        {"test": test, "baseline": base, "best_config": result["best_config"]},
    )
    return result, table


@contextmanager
def _heartbeat(store, run_id: str) -> Iterator[None]:
    """Prove this process is alive every few seconds, so readers can tell a dead worker."""
    stop = threading.Event()

    def beat():
        while not stop.wait(HEARTBEAT_S):
            try:
                store.heartbeat(run_id)
            except sqlite3.Error as exc:
                log.warning("heartbeat not written: %s", exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def execute_run(workspace: Workspace, run_id: str) -> dict:
    """Train a run in this process and return its final record from the store.

    Takes a queued run, a run a dispatcher claimed for this worker, or a foreground run
    created for this process; a run that ended or belongs to another process is left alone.
    """
    store = workspace.store
    run = store.get_run(run_id)
    if run is None:
        raise UserError(f"There is no run '{run_id}' in {workspace.root}.")
    spec = ExperimentSpec.from_dict(run["spec"])
    if run["status"] == QUEUED:
        store.start_run(run_id, os.getpid(), spec.n_fits())
    elif run["status"] == RUNNING and run["pid"] in (None, os.getpid()):
        store.attach_worker(run_id, os.getpid())
    else:
        return run
    log.info("run %s: %d candidate(s), about %d fits", run_id, spec.n_candidates(), spec.n_fits())
    try:
        with _heartbeat(store, run_id):
            result, table = _train_and_evaluate(workspace, run_id, spec)
    except RunCancelled:
        store.cancel_run(run_id)
    except UserError as exc:
        store.fail_run(run_id, str(exc))
    except Exception as exc:  # the run must end failed, with its traceback, whatever broke
        store.fail_run(run_id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
    else:
        store.set_trials_total(run_id, result["fits"])
        store.complete_run(run_id, result, table)
    return store.get_run(run_id)


def train(spec: ExperimentSpec, workspace: Workspace | None = None) -> dict:
    """The easy path: train a spec here, in the foreground; returns the finished run record."""
    workspace = workspace or Workspace()
    return execute_run(workspace, submit_run(workspace, spec, foreground=True))
