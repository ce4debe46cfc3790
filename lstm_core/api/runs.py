"""The door's runs facet: a design resolved and launched (queued, or trained here), runs
followed, described, cancelled, resumed and deleted, and a finished run exported to MLflow.

Reading starts no process: `reap` marks dead workers and nothing more. Processes start
only from named calls: `submit` and `resume` (a worker, the supervisor), and `warm_up`,
which the Experiment page makes as it opens, so Launch finds a worker ready.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from typing import TYPE_CHECKING

from lstm_core.api.door import MAX_NAME_CHARS, MAX_NOTE_CHARS, Door, within
from lstm_core.domain.entities import (
    CandidateResult,
    Progress,
    Run,
    RunStatus,
    Trial,
    TrialStatus,
    pruned_candidates,
)
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import ExperimentSpec, ResolvedSpec
from lstm_core.insight.mlflow_export import DEFAULT_EXPERIMENT as MLFLOW_EXPERIMENT
from lstm_core.insight.mlflow_export import MlflowExport

if TYPE_CHECKING:
    from lstm_core.jobs.doctor import Checkup


class RunsFacet(Door):
    """Runs from design to deletion."""

    def resolve(self, spec: ExperimentSpec) -> ResolvedSpec:
        """The validated spec with what its starting point fixes filled in (a saved model's
        architecture and text settings, a vectors file's size), or one `UserError`. Submit
        it as it is: it is not resolved again."""
        from lstm_core.models.starting import resolve

        return ResolvedSpec(resolve(self.workspace, spec.validated()))

    def submit(self, spec: ExperimentSpec | ResolvedSpec) -> Run:
        """Queue a run and return at once; a worker process trains it."""
        from lstm_core.jobs import queue

        return self.run(queue.submit(self.workspace, spec))

    def train(self, spec: ExperimentSpec | ResolvedSpec) -> Run:
        """Train a run here, in the foreground, and return it finished."""
        from lstm_core.execution.training import train

        return train(spec, self.workspace)

    def start(self, spec: ExperimentSpec | ResolvedSpec) -> Run:
        """Store a run as running in this process; `execute` then trains it (the CLI's path)."""
        from lstm_core.execution.training import submit_run

        return self.run(submit_run(self.workspace, spec, foreground=True))

    def execute(self, run_id: str) -> Run:
        from lstm_core.execution.training import execute_here

        return execute_here(self.workspace, run_id)

    def warm_up(self) -> None:
        """Get ready for a Launch: mark dead workers, start queued runs there is room for,
        and, while nothing runs, have a warm worker wait (TensorFlow imported, fit
        processes started) so the first epoch follows Launch in seconds. It may start
        processes: a page that only reads calls `reap`."""
        from lstm_core.jobs import queue

        queue.refresh(self.workspace)

    def reap(self) -> None:
        """Mark runs whose worker died as interrupted, if the store can be written at once;
        starts nothing and never waits (what every reader does before it reads)."""
        from lstm_core.jobs.dispatch import reap

        reap(self.workspace, wait=False)

    def stopped_writer(self) -> str | None:
        """A sentence when a stopped process (SIGSTOP, a debugger) holds the workspace's
        write lock: reading goes on, but nothing can be saved until it continues."""
        return self.workspace.store_place.stopped_writer()

    def runs(self, limit: int = 200) -> list[Run]:
        """Newest first."""
        return self.workspace.store.list_runs(limit)

    def queue_note(self, run_id: str) -> str:
        """Why a queued run waits, and behind what, in one sentence."""
        from lstm_core.jobs.limits import MAX_RUNNING_VARIABLE, max_running

        run = self.run(run_id)
        runs = self.runs(limit=1_000)
        training = [r.title for r in runs if r.status == RunStatus.RUNNING]
        ahead = [
            r
            for r in runs
            if r.status == RunStatus.QUEUED and (r.created_at, r.id) < (run.created_at, run.id)
        ]
        if not training:
            return "Queued: a worker is starting to train it."
        before = f" and {len(ahead)} queued run(s) before it" if ahead else ""
        return (
            f"Queued behind {', '.join(training)} (training){before}: at most {max_running()} "
            f"run(s) train at once (${MAX_RUNNING_VARIABLE}), since one run already uses every "
            "core."
        )

    def progress(self, run_id: str) -> Progress:
        from lstm_core.insight.progress import run_progress

        store = self.workspace.store
        return run_progress(self.run(run_id), store.trials(run_id), store.epochs(run_id))

    def candidates(self, run_id: str) -> list[CandidateResult]:
        """Each candidate's fold scores (per round for halving), from its finished fits; a
        pruned candidate has none (a fold that finished beside the pruned one is no score)."""
        groups: dict[tuple[int, int], list[Trial]] = defaultdict(list)
        trials = self.trials(run_id)
        pruned = pruned_candidates(trials)
        for trial in trials:
            if (
                not trial.is_refit
                and trial.status == TrialStatus.COMPLETED
                and trial.score is not None
                and trial.candidate not in pruned
            ):
                groups[(trial.round, trial.candidate)].append(trial)
        results = []
        for (round_, candidate), folds in sorted(groups.items()):
            scores = [t.score for t in sorted(folds, key=lambda t: t.fold)]
            results.append(
                CandidateResult(
                    candidate=candidate,
                    round=round_,
                    config=folds[0].params,
                    mean_score=statistics.fmean(scores),
                    std_score=statistics.pstdev(scores),
                    fold_scores=scores,
                    mean_fit_seconds=statistics.fmean(t.seconds or 0.0 for t in folds),
                    n_train=folds[0].n_train,
                )
            )
        return results

    def lineage(self, run_id: str) -> list[str]:
        """The runs this one started from, its parent first (a run deleted since ends it)."""
        chain: list[str] = []
        run = self.run(run_id)
        while run.spec.parent and run.spec.parent not in chain:
            chain.append(run.spec.parent)
            run = self.workspace.store.get_run(run.spec.parent)
            if run is None:
                break
        return chain

    def worker_log(self, run_id: str, lines: int = 30) -> str:
        path = self.workspace.worker_log(run_id)
        if not path.exists():
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))

    def cancel(self, run_id: str) -> str:
        """`cancelled` for a queued run, `cancelling` for a running one (it stops shortly)."""
        from lstm_core.jobs import queue

        return str(queue.cancel(self.workspace, run_id))

    def resume(self, run_id: str) -> Run:
        """Queue an interrupted, cancelled or failed run again; finished fits are not repeated."""
        from lstm_core.jobs import queue

        queue.resume(self.workspace, run_id)
        return self.run(run_id)

    def describe_run(self, run_id: str, *, name: str | None = None, note: str | None = None) -> Run:
        """Give a run a name a person will recognise ("spam, LSTM vs GRU") and a note on
        what was tried; None leaves a field as it is, an empty string clears it."""
        if name is not None:
            name = within(" ".join(name.split()), MAX_NAME_CHARS, "A run name")
        if note is not None:
            note = within(note.strip(), MAX_NOTE_CHARS, "A note")
        self.run(run_id)
        return self.workspace.store.describe_run(run_id, name=name, note=note)

    def delete_run(self, run_id: str) -> None:
        """Remove a run that is not queued or running, with its model and files."""
        from lstm_core.jobs import queue

        queue.delete(self.workspace, run_id)

    def doctor(self, repair: bool = False) -> Checkup:
        """Check the workspace (database, folders, stuck runs); optionally repair it."""
        from lstm_core.jobs import doctor

        if repair:
            return doctor.repair(self.workspace)
        problems = doctor.examine(self.workspace)
        return doctor.Checkup(problems=problems, remaining=list(problems))

    def mlflow_missing(self) -> str | None:
        """How to install MLflow, in one sentence, where it is missing; None where it is not."""
        from lstm_core.insight.mlflow_export import missing

        return missing()

    def default_tracking_uri(self) -> str:
        """An MLflow database inside the workspace (its artifacts in `mlruns/` beside it)."""
        return f"sqlite:///{self.root.resolve() / 'mlflow.db'}"

    def export_mlflow(
        self, run_id: str, tracking_uri: str, experiment: str = MLFLOW_EXPERIMENT
    ) -> MlflowExport:
        """Write a completed run into MLflow: a parent run, a child run per candidate (its
        hyperparameters, per-epoch metrics, CV score), the held-out scores, the confusion
        matrix and the model; a run exported before is found, not written twice."""
        from lstm_core.insight.mlflow_export import export_run

        result = self.result(run_id)
        if result is None:
            raise UserError(
                f"Run '{run_id}' has no result to export: it is {self.run(run_id).status}; "
                "pick a completed run."
            )
        return export_run(
            self.run(run_id),
            result,
            self.trials(run_id),
            self.epochs(run_id),
            self.candidates(run_id),
            self._bundle_dir(run_id),
            tracking_uri,
            experiment,
        )
