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

import logging
import os
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lstm_core.data.datasets import DATA_FILE, LabelledTexts, load_dataset
from lstm_core.domain.entities import Run, RunResult, RunStatus, TrialStatus
from lstm_core.domain.errors import FitFailed, RunCancelled, UserError, is_disk_full
from lstm_core.domain.plain import to_plain
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec, ResolvedSpec, min_examples_per_class
from lstm_core.execution.machine_load import runnable_others
from lstm_core.store.lifecycle import InvalidTransition, RunTakenAway
from lstm_core.store.run_files import write_json
from lstm_core.store.store_errors import StoreError
from lstm_core.store.workspace import Workspace

if TYPE_CHECKING:
    from lstm_core.execution.fit_pool import FitPool
    from lstm_core.execution.run_results import Fitted, RunSplit

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


def submit_run(
    workspace: Workspace, design: ExperimentSpec | ResolvedSpec, foreground: bool = False
) -> str:
    """Validate the spec against its dataset and store it as a queued run.

    A `foreground` run is stored as already running in this process, so no dispatcher
    starts a worker for it.
    """
    from lstm_core.models.backend import training_backend
    from lstm_core.models.starting import resolve

    training_backend()  # a mistyped backend is said now, not when the fits start
    if isinstance(design, ResolvedSpec):
        spec = design.spec
    else:
        spec = resolve(workspace, design.validated())
    check_runnable(workspace, spec)
    running = WorkerIdentity.current() if foreground else None
    return workspace.store.create_run(spec, spec.n_fits(), running)


def _train_and_evaluate(
    workspace: Workspace, run: Run, owner: WorkerIdentity, fits_here: bool, pool: FitPool | None
) -> RunResult:
    from lstm_core.execution import run_results as results

    spec, store = run.spec, workspace.store
    launch_load = runnable_others()  # before this run's fits: what else the machine runs
    data = load_dataset(workspace, spec.dataset_id)
    store.end_open_trials(run.id, TrialStatus.INTERRUPTED)  # fits an earlier attempt left running
    split = _split(workspace, spec, data)
    fitted = _fit(workspace, run, owner, split, fits_here, pool)
    scores = results.held_out_scores(split, fitted)
    store.heartbeat(run.id, owner)  # still this process's run, before its files are written
    results.save_predictions(
        workspace.predictions_file(run.id), results.test_predictions(split, fitted)
    )
    trials, epochs = store.trials(run.id), store.epochs(run.id)
    result = results.run_result(spec, split, fitted, scores, trials, epochs, launch_load)
    results.save_run_bundle(workspace.bundle_dir(run.id), spec, fitted, scores)
    return result


def _split(workspace: Workspace, spec: ExperimentSpec, data: LabelledTexts) -> RunSplit:
    """The rows to train on and to hold out, and what the fits start from."""
    from lstm_core.execution.run_loop import holdout
    from lstm_core.execution.run_results import RunSplit
    from lstm_core.models.starting import load

    labels = data.labels.astype(str).astype(object)
    split = holdout(spec, labels, data.texts)
    start = load(workspace, spec, data.texts[split.train])  # a saved model, or word vectors
    return RunSplit(data.texts, labels, split.train, split.test, start, split.repeats)


def _fit(
    workspace: Workspace,
    run: Run,
    owner: WorkerIdentity,
    split: RunSplit,
    fits_here: bool,
    pool: FitPool | None,
) -> Fitted:
    """The search, then the refit of its best candidate, with the baseline fitted meanwhile."""
    from lstm_core.execution.executor import ExecutorRequest
    from lstm_core.execution.executors import make_executor
    from lstm_core.execution.run_loop import StoreRecorder, refitted, run_search, submit_refit
    from lstm_core.execution.run_results import Fitted
    from lstm_core.execution.trial import TrainingData
    from lstm_core.models.evaluation import baseline

    spec, store = run.spec, workspace.store
    texts, labels, train, test = split.texts, split.labels, split.train_rows, split.test_rows
    recorder = StoreRecorder(store, run.id, owner)
    # Fit processes start importing TensorFlow now, while this process prepares the search.
    request = ExecutorRequest(
        TrainingData(texts, labels, split.start),
        recorder,
        n_jobs=spec.effective_n_jobs(),
        here=fits_here,
        pool=pool,
        address=spec.cluster,
    )
    with make_executor(request) as executor:
        log.info("run %s fits in %s", run.id, executor.where)
        if executor.cluster_info is not None:  # for the Runs page: workers, the cluster's own
            write_json(workspace.cluster_file(run.id), to_plain(executor.cluster_info))
        started = time.perf_counter()
        study = workspace.study_file(run.id)
        search = run_search(spec, labels, train, run.id, store, executor, recorder, study, texts)
        submit_refit(spec, search.best, train, test, run.id, executor)
        # The baseline is fitted here while a fit process refits (before it, when fits run here).
        base, base_predicted = baseline(
            texts[train], labels[train], texts[test], labels[test], split.minority, spec.seed
        )
        refit = refitted(executor, recorder, run.id)
        return Fitted(search, refit, base, base_predicted, time.perf_counter() - started)


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
            except (StoreError, UserError) as exc:  # busy, or a full disk
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
        except (InvalidTransition, StoreError, OSError, UserError) as exc:
            log.error("run %s could not record how it ended (%s): %s", run_id, exc, error)
    log.info("run %s took %.1f s", run_id, time.perf_counter() - started)
    return store.get_run(run_id)


def execute_here(workspace: Workspace, run_id: str) -> Run:
    """A foreground run: one fit at a time in this process, parallel fits in fit processes."""
    run = workspace.store.get_run(run_id)
    fits_here = run is not None and run.spec.effective_n_jobs() == 1
    return execute_run(workspace, run_id, fits_here=fits_here)


def train(spec: ExperimentSpec | ResolvedSpec, workspace: Workspace | None = None) -> Run:
    """The easy path: train a spec here, in the foreground; returns the finished run."""
    workspace = workspace or Workspace()
    return execute_here(workspace, submit_run(workspace, spec, foreground=True))
