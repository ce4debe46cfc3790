"""A run's fits and epochs in the store: written only by the process that holds the run.

A worker's write carries its identity (`owner`): the run's state is read inside the
write's own transaction and the write refused (`RunTakenAway`) unless the run is still
running under that very process, so a process that lost its run never writes into it.
"""

from __future__ import annotations

import time
from typing import Any

from lstm_core.domain.entities import Epoch, Trial, TrialStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.store.lifecycle import check_owned
from lstm_core.store.store_access import StoreAccess


class FitRecords(StoreAccess):
    def start_trial(
        self,
        run_id: str,
        *,
        candidate: int,
        round: int,
        fold: int | None,
        params: dict[str, Any],
        n_train: int,
        epochs_planned: int,
        pid: int | None,
        worker: str,
        owner: WorkerIdentity | None = None,
    ) -> int:
        """A new fit, running; its id."""
        trial = Trial(
            id=0,  # the backend gives it its own
            run_id=run_id,
            candidate=candidate,
            round=round,
            fold=fold,
            params=params,
            n_train=n_train,
            epochs_planned=epochs_planned,
            status=TrialStatus.RUNNING,
            started_at=time.time(),
            pid=pid,
            worker=worker,
        )
        with self._writing() as rows:
            if owner is not None:
                check_owned(f"run {run_id}", rows.run_state(run_id), owner)
            return rows.insert_trial(trial)

    def _trial_write(self, trial_id: int, owner: WorkerIdentity | None, **changes: Any) -> None:
        with self._writing() as rows:
            if owner is not None:
                run_id = rows.trial_run(trial_id)
                state = None if run_id is None else rows.run_state(run_id)
                check_owned("this trial's run", state, owner)
            rows.update_trial(trial_id, **changes)

    def finish_trial(
        self,
        trial_id: int,
        status: TrialStatus,
        score: float | None = None,
        owner: WorkerIdentity | None = None,
        accuracy: float | None = None,
    ) -> None:
        """A fit ends; a completed one is whole (its progress 1)."""
        done = {"progress": 1.0} if status == TrialStatus.COMPLETED else {}
        self._trial_write(
            trial_id,
            owner,
            status=status,
            finished_at=time.time(),
            score=score,
            accuracy=accuracy,
            **done,
        )

    def set_trial_progress(
        self, trial_id: int, fraction: float, owner: WorkerIdentity | None = None
    ) -> None:
        self._trial_write(trial_id, owner, progress=fraction)

    def end_open_trials(self, run_id: str, status: TrialStatus) -> int:
        """Fits left `running` by an earlier attempt of the run; returns how many."""
        with self._writing() as rows:
            return rows.end_running_trials(run_id, status, time.time())

    def trials(self, run_id: str) -> list[Trial]:
        with self._reading() as rows:
            return rows.trials(run_id)

    def log_epochs(self, epochs: list[Epoch], owner: WorkerIdentity | None = None) -> None:
        """All of them or, when one's run is no longer `owner`'s, none."""
        if not epochs:
            return
        with self._writing() as rows:
            if owner is not None:
                for run_id in {rows.trial_run(e.trial_id) for e in epochs}:
                    state = None if run_id is None else rows.run_state(run_id)
                    check_owned("this epoch's run", state, owner)
            rows.insert_epochs(epochs)

    def epochs(self, run_id: str) -> list[Epoch]:
        with self._reading() as rows:
            return rows.epochs(run_id)
