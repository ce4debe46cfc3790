"""The trial loop a run owns: ask the searcher, fit each candidate on every fold, tell, refit.

Folds come from `StratifiedKFold` over the training split (or one stratified validation
split when cv = 0); where texts repeat and the spec keeps repeats together, the test split,
the folds (`StratifiedGroupKFold`) and the validation split keep every repeat of a text on
one side (`lstm_core.data.repeats`), so no score is partly memory. Every fit is a
`TrialTask` with an explicit candidate, round and fold; the executor decides where it runs.
A fit that an earlier attempt of the run already finished is not repeated: its recorded
score is used (that is what resuming is), and the same seed gives the same splits and the
same candidates, so a resumed run ends where an uninterrupted one would.
"""

from __future__ import annotations

import logging
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_core.data.repeats import grouped_split, repeat_groups
from lstm_core.domain.entities import RepeatedTexts, TrialStatus
from lstm_core.domain.errors import DiskFull, FitFailed, RunCancelled, UserError, is_disk_full
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.searches import BAYESIAN
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.execution.executor import Executor
from lstm_core.execution.trial import (
    EpochEnded,
    FitProgress,
    RefitArtifacts,
    TrialContext,
    TrialOutcome,
    TrialTask,
)
from lstm_core.search.searcher import Candidate
from lstm_core.search.searchers import make_searcher
from lstm_core.store.lifecycle import RunTakenAway
from lstm_core.store.run_store import RunStore
from lstm_core.store.store_errors import StoreError

VALIDATION_SHARE = 0.2  # held out of the training split when cv = 0
STOP_POLL_S = 0.25
EPOCH_FLUSH_S = 0.5
log = logging.getLogger("lstm_core")
UNGROUPED = (
    "a class has too few distinct texts to keep its repeats on one side of the %s; "
    "this run splits them as if no text repeated"
)


@dataclass(frozen=True, eq=False)
class HoldOut:
    """The rows a run trains on and the rows it holds out, and how repeated texts fell:
    `RepeatedTexts.TOGETHER` (each text's repeats on one side), `APART` (not kept together:
    turned off, or a class with too few distinct texts) or `NONE` (no text repeats)."""

    train: np.ndarray
    test: np.ndarray
    repeats: str


def holdout(spec: ExperimentSpec, labels: np.ndarray, texts: np.ndarray | None = None) -> HoldOut:
    """The training and the held-out test split (stratified, seeded), with every repeat of
    a text on one side when the spec keeps repeats together."""
    from sklearn.model_selection import train_test_split

    groups = _repeat_groups(texts)
    repeats = RepeatedTexts.NONE if groups is None else RepeatedTexts.APART
    if groups is not None and spec.group_repeats:
        split = grouped_split(groups, labels, spec.test_size, spec.seed)
        if split is not None:
            return HoldOut(*split, RepeatedTexts.TOGETHER)
        log.warning(UNGROUPED, "test split")
    rows = np.arange(len(labels))
    train, test = train_test_split(
        rows, test_size=spec.test_size, stratify=labels, random_state=spec.seed
    )
    return HoldOut(train, test, repeats)


def holdout_split(
    spec: ExperimentSpec, labels: np.ndarray, texts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training and the held-out test split (`holdout`)."""
    split = holdout(spec, labels, texts)
    return split.train, split.test


def fold_rows(
    spec: ExperimentSpec,
    labels: np.ndarray,
    train_rows: np.ndarray,
    texts: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, scored rows) of each fold, as indices into the dataset; every repeat of a
    text on one side of each fold when the spec keeps repeats together."""
    from sklearn.model_selection import (
        StratifiedGroupKFold,
        StratifiedKFold,
        StratifiedShuffleSplit,
    )

    y = labels[train_rows]
    kept_together = spec.group_repeats and texts is not None
    groups = _repeat_groups(texts[train_rows]) if kept_together else None
    if groups is not None and spec.cv == 0:
        split = grouped_split(groups, y, VALIDATION_SHARE, spec.seed)
        if split is not None:
            return [(train_rows[split[0]], train_rows[split[1]])]
    elif groups is not None and _groups_per_class(groups, y) >= spec.cv:
        splitter = StratifiedGroupKFold(n_splits=spec.cv, shuffle=True, random_state=spec.seed)
        return [
            (train_rows[fit], train_rows[scored])
            for fit, scored in splitter.split(np.zeros(len(y)), y, groups)
        ]
    if groups is not None:
        log.warning(UNGROUPED, "folds")
    if spec.cv == 0:
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=VALIDATION_SHARE, random_state=spec.seed
        )
    else:
        splitter = StratifiedKFold(n_splits=spec.cv, shuffle=True, random_state=spec.seed)
    return [
        (train_rows[fit], train_rows[scored]) for fit, scored in splitter.split(np.zeros(len(y)), y)
    ]


def _repeat_groups(texts: np.ndarray | None) -> np.ndarray | None:
    """Each text's group of repeats, or None when no text repeats another: then there is
    nothing to keep together, and the split is the ungrouped one, row for row as before
    grouping existed."""
    if texts is None:
        return None
    groups = repeat_groups(texts)
    return groups if len(np.unique(groups)) < len(groups) else None


def _groups_per_class(groups: np.ndarray, labels: np.ndarray) -> int:
    """The fewest distinct groups any class's rows fall in."""
    return min(len(np.unique(groups[labels == label])) for label in np.unique(labels))


def stratified_share(rows: np.ndarray, labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """About `share` of `rows`, every class in proportion (at least two of each), seeded."""
    if share >= 1.0:
        return rows
    rng = np.random.default_rng(seed)
    kept = []
    for label in np.unique(labels[rows]):
        members = rows[labels[rows] == label]
        count = min(len(members), max(2, round(share * len(members))))
        kept.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(kept))


class StoreRecorder:
    """Writes a run's fits into the store: trial rows, epochs (in batches), progress.

    Every write carries the run's owner, so nothing lands in a run this process lost. A
    write that fails on a busy database is a warning, never a crash of the fit that
    reported it; a full disk, or the run taken away, is kept in `failure` and stops every
    fit (the run then ends with it). With a `judge` (the searcher's pruner), each epoch's
    validation loss is shown to it; a candidate it stops is `pruned` from then on.
    """

    def __init__(self, store: RunStore, run_id: str, owner: WorkerIdentity | None = None):
        self.store = store
        self.run_id = run_id
        self.owner = owner
        self.failure: Exception | None = None
        self._epochs: list = []
        self._flushed = time.monotonic()
        self._planned: dict[int, int] = {}
        self._stop = False
        self._stop_checked = 0.0
        self._contexts: dict[int, TrialContext] = {}
        self._pruned: set[int] = set()
        self.judge: Callable[[int, int | None, int, float], bool] | None = None

    def open_trial(self, task: TrialTask, pid: int | None, worker: str) -> TrialContext:
        epochs = int(task.config["epochs"])
        trial_id = self.store.start_trial(
            self.run_id,
            candidate=task.candidate,
            round=task.round,
            fold=task.fold,
            params=task.config,
            n_train=len(task.fit_rows),
            epochs_planned=epochs,
            pid=pid,
            worker=worker,
            owner=self.owner,
        )
        self._planned[trial_id] = epochs
        context = TrialContext(self.run_id, trial_id, task.candidate, task.round, task.fold)
        self._contexts[trial_id] = context
        return context

    def record(self, event: EpochEnded | FitProgress) -> None:
        if isinstance(event, FitProgress):
            self._safely(self.store.set_trial_progress, event.trial_id, event.fraction, self.owner)
            return
        epoch = event.epoch
        self._epochs.append(epoch)
        shown = " ".join(f"{k} {v:.4f}" for k, v in epoch.metrics().items())
        log.info(
            "trial %d epoch %d/%d %.2fs %s",
            epoch.trial_id,
            epoch.epoch + 1,
            self._planned.get(epoch.trial_id, 0),
            epoch.seconds or 0.0,
            shown,
        )
        if time.monotonic() - self._flushed >= EPOCH_FLUSH_S:
            self.flush()
        context = self._contexts.get(epoch.trial_id)
        if self.judge is None or context is None or epoch.val_loss is None:
            return
        try:
            stop = self.judge(context.candidate, context.fold, epoch.epoch, -epoch.val_loss)
        except Exception as exc:  # pruning is advice: a study that cannot be written skips it
            warnings.warn(f"could not judge epoch for pruning: {exc}", stacklevel=2)
            return
        if stop:
            self._pruned.add(context.candidate)

    def pruned(self, candidate: int) -> bool:
        return candidate in self._pruned

    def flush(self) -> None:
        epochs, self._epochs = self._epochs, []
        self._flushed = time.monotonic()
        self._safely(self.store.log_epochs, epochs, self.owner)

    def finish(self, outcome: TrialOutcome) -> None:
        self.flush()
        self._safely(
            self.store.finish_trial,
            outcome.context.trial_id,
            outcome.status,
            outcome.score,
            self.owner,
            outcome.accuracy,
        )

    def stop_requested(self) -> bool:
        if self.failure is not None:
            return True
        if not self._stop and time.monotonic() - self._stop_checked >= STOP_POLL_S:
            self._stop_checked = time.monotonic()
            self._stop = bool(self._safely(self.store.cancel_requested, self.run_id))
            if self._epochs:
                self.flush()
        return self._stop

    def _safely(self, method, *args):
        try:
            return method(*args)
        except RunTakenAway as exc:
            self.failure = self.failure or exc
        except (StoreError, DiskFull) as exc:
            if is_disk_full(exc):
                self.failure = self.failure or exc
            else:
                warnings.warn(f"could not write training progress: {exc}", stacklevel=2)
        return None


@dataclass(frozen=True)
class SearchOutcome:
    best: Candidate
    best_score: float
    grid_seconds: float


def run_search(
    spec: ExperimentSpec,
    labels: np.ndarray,
    train_rows: np.ndarray,
    run_id: str,
    store: RunStore,
    executor: Executor,
    recorder: StoreRecorder,
    study_file: Path | None = None,
    texts: np.ndarray | None = None,
) -> SearchOutcome:
    """Score every candidate the searcher asks for on every fold; return the best one.

    A candidate the searcher prunes after an epoch stops at once, its other folds are
    dropped, and it is never told a score. `texts`: the dataset's, to keep repeats together
    in the folds.
    """
    started = time.perf_counter()
    folds = fold_rows(spec, labels, train_rows, texts)
    trials = store.trials(run_id)
    earlier = {
        (t.candidate, t.round, t.fold): t.score
        for t in trials
        if t.status == TrialStatus.COMPLETED and not t.is_refit and t.score is not None
    }
    if earlier and spec.search in BAYESIAN and study_file and not study_file.exists():
        raise UserError(
            f"Run {run_id} has lost its search study ({study_file.name}), so its candidates "
            "cannot be proposed again; start a new run with the same design."
        )
    searcher = make_searcher(spec, study_file, run_id, executor.slots)
    recorder.judge = searcher.report
    for t in trials:  # pruned just before an earlier attempt was killed
        if t.candidate in searcher.pruned and t.status == TrialStatus.INTERRUPTED:
            store.finish_trial(t.id, TrialStatus.PRUNED, None, recorder.owner)
    if earlier:
        log.info("run %s resumes: %d finished fit(s) kept", run_id, len(earlier))
    while batch := searcher.ask():
        scores: dict[int, dict[int, float]] = {c.number: {} for c in batch}
        tasks = []
        for candidate in batch:
            for fold, (fit, scored) in enumerate(folds):
                rows = stratified_share(
                    fit, labels, candidate.rows_share, spec.seed + candidate.round
                )
                task = _task(spec, run_id, candidate, fold, rows, scored)
                if task.key in earlier:
                    scores[candidate.number][fold] = earlier[task.key]
                    continue
                if recorder.stop_requested():
                    raise recorder.failure or RunCancelled(run_id)
                tasks.append(task)
        executor.submit(tasks)
        while executor.in_flight():
            outcome = _next(executor, recorder, run_id)
            if outcome.status == TrialStatus.COMPLETED:
                scores[outcome.context.candidate][outcome.context.fold] = outcome.score
            if recorder.stop_requested():  # asked while this fit was finishing
                raise recorder.failure or RunCancelled(run_id)
        for candidate in batch:
            if candidate.number in searcher.pruned:
                continue
            searcher.tell(candidate, statistics.fmean(scores[candidate.number].values()))
    best = searcher.best()  # (maybe scored by an earlier attempt of the run)
    return SearchOutcome(
        best, searcher.scores[(best.number, best.round)], time.perf_counter() - started
    )


def submit_refit(
    spec: ExperimentSpec,
    best: Candidate,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    run_id: str,
    executor: Executor,
) -> None:
    """The best candidate on the whole training split; it predicts the held-out split."""
    executor.submit([_task(spec, run_id, best, None, train_rows, test_rows)])


def refitted(executor: Executor, recorder: StoreRecorder, run_id: str) -> RefitArtifacts:
    return _next(executor, recorder, run_id).refit


def _task(spec, run_id, candidate: Candidate, fold, fit_rows, scored_rows) -> TrialTask:
    return TrialTask(
        run_id=run_id,
        candidate=candidate.number,
        round=candidate.round,
        fold=fold,
        config=candidate.config,
        fit_rows=fit_rows,
        eval_rows=scored_rows,
        scoring=spec.scoring,
        seed=spec.seed,
    )


def _next(executor: Executor, recorder: StoreRecorder, run_id: str) -> TrialOutcome:
    """The next finished fit, recorded; how the run must end if it should end now."""
    try:
        outcome = executor.wait()
    except RunCancelled:  # stopped with nothing left to report: say why
        raise recorder.failure or RunCancelled(run_id) from None
    recorder.finish(outcome)
    if recorder.failure is not None:
        raise recorder.failure
    if outcome.status == TrialStatus.CANCELLED:
        raise RunCancelled(run_id)
    if outcome.status not in (TrialStatus.COMPLETED, TrialStatus.PRUNED):
        raise FitFailed(outcome.error or "A fit failed.", outcome.traceback)
    return outcome
