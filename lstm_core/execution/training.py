"""Run one experiment from its stored spec to a bundle: split, search, refit, evaluate, save.

`execute_run` is what a worker process calls; it is the only writer of that run's status,
and whatever happens the run ends `completed`, `cancelled` or `failed` (with the error and
traceback kept for the dashboard; a full disk gets a sentence that says so, and the space
the run held back, `.reserve-PID`, is freed so that the failure can still be recorded).
Every write carries this process's identity: a worker whose run was taken from it stops,
and its finished fits stay for a resume. A worker's fits run in spawned fit processes (so a
cancel can stop them at any moment, TensorFlow's import included); a foreground run with
one fit at a time fits here. scikit-learn loads only when a run trains, so the
dashboard's start-up path stays light.
"""

from __future__ import annotations

import json
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
from typing import TYPE_CHECKING

from lstm_core.data.datasets import DATA_FILE, load_dataset
from lstm_core.domain.entities import (
    Run,
    RunResult,
    RunStatus,
    TestPrediction,
    TrialStatus,
    to_plain,
)
from lstm_core.domain.errors import FitFailed, RunCancelled, UserError, is_disk_full
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec, min_examples_per_class
from lstm_core.execution.machine_load import runnable_others
from lstm_core.store.run_files import write_json
from lstm_core.store.sqlite import InvalidTransition, RunTakenAway
from lstm_core.store.workspace import Workspace

if TYPE_CHECKING:
    from lstm_core.execution.fit_pool import FitPool

HEARTBEAT_S = 5.0
RESERVE_BYTES = 256 * 1024
log = logging.getLogger("lstm_core")


def check_runnable(workspace: Workspace, spec: ExperimentSpec) -> None:
    """The spec's dataset is here and every class is large enough for its folds."""
    dataset = workspace.store.get_dataset(spec.dataset_id)
    if dataset is None or not (workspace.dataset_dir(spec.dataset_id) / DATA_FILE).exists():
        raise UserError(
            f"Dataset {spec.dataset_id} is not in this workspace; load and confirm it first."
        )
    needed = min_examples_per_class(spec.cv, spec.test_size)
    rare = {k: v for k, v in dataset.class_counts.items() if v < needed}
    if rare:
        label, count = next(iter(rare.items()))
        raise UserError(
            f"Class '{label}' has only {count} example(s), but cv = {spec.cv} with a "
            f"{spec.test_size:.0%} test split needs at least {needed}; use fewer folds."
        )


def submit_run(workspace: Workspace, spec: ExperimentSpec, foreground: bool = False) -> str:
    """Validate the spec against its dataset and store it as a queued run.

    A `foreground` run is stored as already running in this process, so no dispatcher
    starts a worker for it.
    """
    from lstm_core.models.backend import training_backend
    from lstm_core.models.starting import resolve

    training_backend()  # a mistyped backend is said now, not when the fits start
    spec = resolve(workspace, spec.validated())
    check_runnable(workspace, spec)
    running = WorkerIdentity.current() if foreground else None
    return workspace.store.create_run(spec, spec.n_fits(), running)


def _save_predictions(path, predictions: list[TestPrediction]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            for prediction in predictions:
                handle.write(json.dumps(to_plain(prediction), ensure_ascii=False) + "\n")
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _test_predictions(texts, labels, test_rows, refit, baseline_predicted) -> list[TestPrediction]:
    from lstm_core.models.evaluation import predicted_labels

    predicted = predicted_labels(refit.test_proba, refit.classes)
    return [
        TestPrediction(
            row=int(row),
            text=str(texts[row]),
            true=str(labels[row]),
            predicted=str(predicted[i]),
            probabilities={
                c: round(float(p), 6)
                for c, p in zip(refit.classes, refit.test_proba[i], strict=True)
            },
            baseline_predicted=str(baseline_predicted[i]),
        )
        for i, row in enumerate(test_rows)
    ]


def _train_and_evaluate(
    workspace: Workspace, run: Run, owner: WorkerIdentity, fits_here: bool, pool: FitPool | None
) -> RunResult:
    from lstm_core.execution.executors import make_executor
    from lstm_core.execution.run_loop import (
        StoreRecorder,
        holdout_split,
        refitted,
        run_search,
        submit_refit,
    )
    from lstm_core.execution.trial import TrainingData
    from lstm_core.models.bundle import save_bundle
    from lstm_core.models.evaluation import baseline, evaluate, majority
    from lstm_core.models.starting import load, vectors_coverage

    spec, store = run.spec, workspace.store
    launch_load = runnable_others()  # before this run's fits: what else the machine runs
    data = load_dataset(workspace, spec.dataset_id)
    labels = data.labels.astype(str).astype(object)
    texts = data.texts
    store.end_open_trials(run.id, TrialStatus.INTERRUPTED)  # fits an earlier attempt left running
    recorder = StoreRecorder(store, run.id, owner)
    n_jobs = spec.effective_n_jobs()
    train_rows, test_rows = holdout_split(spec, labels)
    start = load(workspace, spec, texts[train_rows])  # a saved model, or word vectors
    # Fit processes start importing TensorFlow now, while this process prepares the search.
    training = TrainingData(texts, labels, start)
    with make_executor(training, recorder, n_jobs, fits_here, pool, spec.cluster) as executor:
        log.info("run %s fits in %s", run.id, executor.where)
        if executor.cluster_info is not None:  # for the Runs page: workers, Dask's dashboard
            write_json(workspace.cluster_file(run.id), to_plain(executor.cluster_info))
        counts = Counter(labels[train_rows].tolist())
        minority = min(counts, key=counts.get)
        started = time.perf_counter()
        search = run_search(
            spec,
            labels,
            train_rows,
            run.id,
            store,
            executor,
            recorder,
            workspace.study_file(run.id),
        )
        submit_refit(spec, search.best, train_rows, test_rows, run.id, executor)
        x_test, y_test = texts[test_rows], labels[test_rows]
        # The baseline is fitted here while a fit process refits (before it, when fits run here).
        base, base_predicted = baseline(
            texts[train_rows], labels[train_rows], x_test, y_test, minority, spec.seed
        )
        refit = refitted(executor, recorder, run.id)
        search_seconds = time.perf_counter() - started
    test = evaluate(y_test, refit.test_proba, refit.classes, minority)
    floor = majority(labels[train_rows], y_test, refit.classes, minority)
    store.heartbeat(run.id, owner)  # still this process's run, before its files are written
    _save_predictions(
        workspace.predictions_file(run.id),
        _test_predictions(texts, labels, test_rows, refit, base_predicted),
    )
    trials = store.trials(run.id)
    best_fits = [
        t.accuracy
        for t in trials
        if (t.candidate, t.round) == (search.best.number, search.best.round)
        and not t.is_refit
        and t.status == TrialStatus.COMPLETED
    ]
    epoch_seconds = [e.seconds for e in store.epochs(run.id) if e.seconds is not None]
    result = RunResult(
        best_params={
            name: value
            for name, value in search.best.config.items()
            if (name in spec.grid or name in spec.ranges)
            and not (name == "activation" and value is None)
        },
        best_config=search.best.config,
        cv_best_score=search.best_score,
        scoring=spec.scoring,
        test=test,
        baseline=base,
        n_train=len(train_rows),
        n_test=len(test_rows),
        sequence_length=refit.sequence_length,
        longest_text_tokens=refit.longest_text_tokens,
        vocabulary_size=refit.vocabulary_size,
        search_seconds=round(search_seconds, 2),
        grid_seconds=round(search.grid_seconds, 2),
        median_epoch_seconds=round(statistics.median(epoch_seconds), 3) if epoch_seconds else None,
        fits=sum(t.status == TrialStatus.COMPLETED and not t.is_refit for t in trials) + 1,
        best_candidate=search.best.number,
        majority=floor,
        # fits scored before fits recorded their accuracy (a resumed old run) have none
        cv_accuracy=statistics.fmean(best_fits) if best_fits and None not in best_fits else None,
        parent=spec.parent or None,
        parameters=refit.parameters,
        vectors=vectors_coverage(start, refit.vectorizer_json, texts[train_rows]),
        backend=refit.backend,
        launch_load=round(launch_load, 2),
    )
    save_bundle(
        workspace.bundle_dir(run.id),
        refit.model_file,
        refit.vectorizer_json,
        refit.classes,
        spec.to_dict(),
        {
            "test": to_plain(test),
            "baseline": to_plain(base),
            "majority": to_plain(floor),
            "best_config": search.best.config,
        },
    )
    return result


@contextmanager
def _heartbeat(workspace: Workspace, run_id: str, owner: WorkerIdentity) -> Iterator[None]:
    """Say every few seconds that this process still holds the run (what a reader on
    another machine, which cannot see the process, goes by)."""
    stop = threading.Event()

    def beat():
        while not stop.wait(HEARTBEAT_S):
            try:
                workspace.store.heartbeat(run_id, owner)
            except RunTakenAway:
                return
            except (sqlite3.Error, UserError) as exc:  # busy, or a full disk
                log.warning("heartbeat not written: %s", exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def _reserve(workspace: Workspace, run_id: str) -> Iterator[None]:
    """Hold back a little disk space while the run goes, removed when it ends."""
    path = workspace.reserve_file(run_id, os.getpid())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:  # allocated, not sparse: it must free real blocks
            os.posix_fallocate(handle.fileno(), 0, RESERVE_BYTES)
    except OSError:
        path.unlink(missing_ok=True)
        raise
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _end(workspace: Workspace, run_id: str, owner: WorkerIdentity, error: BaseException) -> None:
    """Record how the run ended early; a run no longer ours is left to its new owner."""
    store = workspace.store
    if isinstance(error, RunCancelled):
        store.cancel_run(run_id, owner)
    elif isinstance(error, FitFailed):
        store.fail_run(run_id, str(error), error.traceback or "", owner)
    elif is_disk_full(error):  # the reserve is already freed: there is room to say so
        store.fail_run(
            run_id,
            f"The disk of the workspace ({workspace.root}) is full; free some space, then "
            "resume the run: its finished fits are kept.",
            owner=owner,
        )
    elif isinstance(error, UserError):
        store.fail_run(run_id, str(error), owner=owner)
    else:
        trace = "".join(traceback.format_exception(error))
        store.fail_run(run_id, f"{type(error).__name__}: {error}", trace, owner)


def execute_run(
    workspace: Workspace, run_id: str, fits_here: bool = False, pool: FitPool | None = None
) -> Run:
    """Train a run in this process and return its final record.

    Takes a queued run, a run a dispatcher claimed for this worker, or a foreground run
    created for this process; a run that ended or belongs to another process is left alone.
    `fits_here` fits in this process rather than in fit processes (one at a time); `pool`
    keeps the fit processes warm for the caller's next run.
    """
    store = workspace.store
    run = store.get_run(run_id)
    if run is None:
        raise UserError(f"There is no run '{run_id}' in {workspace.root}.")
    spec, me = run.spec, WorkerIdentity.current()
    if run.status == RunStatus.QUEUED:
        store.start_run(run_id, me, spec.n_fits())
    elif not (run.status == RunStatus.RUNNING and store.attach_worker(run_id, me)):
        return run  # ended, or another process's
    if store.cancel_requested(run_id):  # cancelled while its worker started
        store.cancel_run(run_id, me)
        return store.get_run(run_id)
    log.info("run %s: %d candidate(s), %d fits", run_id, spec.n_candidates(), spec.n_fits())
    started = time.perf_counter()
    try:
        with _reserve(workspace, run_id), _heartbeat(workspace, run_id, me):
            result = _train_and_evaluate(workspace, store.get_run(run_id), me, fits_here, pool)
            store.complete_run(run_id, result, me)
    except RunTakenAway:
        log.warning("run %s was taken from this worker; its finished fits stay", run_id)
    except KeyboardInterrupt:  # Ctrl-C on a foreground run: it ends cancelled, resumable
        _end(workspace, run_id, me, RunCancelled(run_id))
        raise
    except Exception as error:  # whatever broke, the run ends with a reason
        try:
            _end(workspace, run_id, me, error)
        except (InvalidTransition, sqlite3.Error, OSError, UserError) as exc:
            log.error("run %s could not record how it ended (%s): %s", run_id, exc, error)
    log.info("run %s took %.1f s", run_id, time.perf_counter() - started)
    return store.get_run(run_id)


def execute_here(workspace: Workspace, run_id: str) -> Run:
    """A foreground run: one fit at a time in this process, parallel fits in fit processes."""
    run = workspace.store.get_run(run_id)
    fits_here = run is not None and run.spec.effective_n_jobs() == 1
    return execute_run(workspace, run_id, fits_here=fits_here)


def train(spec: ExperimentSpec, workspace: Workspace | None = None) -> Run:
    """The easy path: train a spec here, in the foreground; returns the finished run."""
    workspace = workspace or Workspace()
    return execute_here(workspace, submit_run(workspace, spec, foreground=True))
