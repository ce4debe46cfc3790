"""The run store the engine uses, the same over every backend (`store_url.open_store`).

Create a run, change its status through event methods that refuse impossible transitions
(`lifecycle`: the run's state is read inside the write's own transaction, so a lost race
is refused, not written), keep datasets, read entities back with their fits done counted,
and put back what `lstm-core doctor` finds lost. Fits and epochs: `fit_records`; how rows
are reached and copied into run folders: `store_access`. The backend only keeps the rows.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from lstm_core.domain.entities import Dataset, Run, RunResult, RunStatus
from lstm_core.domain.errors import UserError
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.backend import DamagedRecord
from lstm_core.store.fit_records import FitRecords
from lstm_core.store.lifecycle import (
    TRIALS_ENDING_AS,
    InvalidTransition,
    check_deletable,
    check_move,
    check_owned,
    may_attach,
    restored_status,
)
from lstm_core.store.run_files import ArchivedRun


def new_run_id() -> str:
    """Sortable by creation time, unique across processes."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class RunStore(FitRecords):
    # upkeep (`lstm-core doctor`)
    def damaged_records(self) -> list[DamagedRecord]:
        with self._reading() as rows:
            return rows.damaged_records()

    def drop_rows(self, table: str, rowids: list[int]) -> None:
        with self._writing() as rows:
            rows.drop_rows(table, rowids)

    def archive_run(self, run_id: str) -> None:
        """Copy the run's record into its folder again (a folder removed by hand)."""
        run = self.get_run(run_id)
        if run is not None:
            self._mirror(run_id, with_history=run.status.finished)

    def restore_run(self, record: ArchivedRun, replace: bool = False) -> None:
        """Put back a run from its folder's record, with its ids (doctor --repair);
        `replace` first removes what the database holds of it (a damaged row).
        A run that was going has no worker now: it comes back interrupted."""
        run = record.run
        status = restored_status(run.status)
        if status != run.status:
            error = "It was going when the database was rebuilt; resume it to finish."
            finished_at = run.finished_at or time.time()
            run = dataclasses.replace(run, status=status, error=error, finished_at=finished_at)
        run = dataclasses.replace(run, worker_host=None, worker_start=None)
        with self._writing() as rows:
            if replace:
                rows.delete_run(run.id)
            rows.insert_run(run, record.result, replace=True)
            for trial in record.trials:
                rows.insert_trial(dataclasses.replace(trial, run_id=run.id), keep_id=True)
            rows.insert_epochs(record.epochs)
        self._mirror(run.id, with_history=bool(record.trials))

    # datasets
    def add_dataset(self, dataset: Dataset) -> None:
        with self._writing() as rows:
            rows.insert_dataset(
                dataclasses.replace(dataset, created_at=dataset.created_at or time.time())
            )
        if self.archive is not None:
            self.archive.save_dataset(self.get_dataset(dataset.id))

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        with self._reading() as rows:
            return rows.dataset(dataset_id)

    def list_datasets(self) -> list[Dataset]:
        """Newest first."""
        with self._reading() as rows:
            return rows.datasets()

    def runs_of_dataset(self, dataset_id: str) -> list[str]:
        with self._reading() as rows:
            return rows.run_ids(dataset_id=dataset_id)

    def delete_dataset(self, dataset_id: str) -> None:
        """Refused (InvalidTransition) while any run refers to it; checked in the same write."""
        with self._writing() as rows:
            used = len(rows.run_ids(dataset_id=dataset_id))
            if used:
                raise InvalidTransition(f"dataset {dataset_id} is used by {used} run(s)")
            rows.delete_dataset(dataset_id)

    def describe_dataset(
        self, dataset_id: str, name: str | None = None, note: str | None = None
    ) -> Dataset:
        """Set a dataset's name or note (None leaves it; an empty note clears it)."""
        changes = {} if name is None else {"name": name}
        if note is not None:
            changes["note"] = note or None
        with self._writing() as rows:
            rows.update_dataset(dataset_id, **changes)
        dataset = self.get_dataset(dataset_id)
        if dataset is None:
            raise UserError(f"There is no dataset '{dataset_id}' in this workspace.")
        if self.archive is not None:
            self.archive.save_dataset(dataset)
        return dataset

    # runs: reading
    def get_run(self, run_id: str) -> Run | None:
        with self._reading() as rows:
            run = rows.run(run_id)
            return None if run is None else self._counted(rows, [run])[0]

    def list_runs(self, limit: int = 200) -> list[Run]:
        """Newest first."""
        with self._reading() as rows:
            return self._counted(rows, rows.newest_runs(limit))

    def runs_with_status(self, status: RunStatus) -> list[Run]:
        """Oldest first."""
        with self._reading() as rows:
            return self._counted(rows, rows.runs_with_status(status))

    def get_result(self, run_id: str) -> RunResult | None:
        with self._reading() as rows:
            return rows.result(run_id)

    def cancel_requested(self, run_id: str) -> bool:
        with self._reading() as rows:
            return rows.cancel_requested(run_id)

    # runs: changing
    def create_run(
        self, spec: ExperimentSpec, trials_total: int, running: WorkerIdentity | None = None
    ) -> str:
        """A queued run, or with `running` one already running in that (foreground) process."""
        now = time.time()
        started = None if running is None else now
        with self._writing() as rows:
            dataset = rows.dataset(spec.dataset_id)
            if dataset is None:
                raise UserError(
                    f"Dataset {spec.dataset_id} is not in this workspace; load and confirm it "
                    "first."
                )
            run = Run(
                id=new_run_id(),
                created_at=now,
                status=RunStatus.QUEUED if running is None else RunStatus.RUNNING,
                spec=spec,
                dataset=dataset,
                pid=running and running.pid,
                heartbeat_at=started,
                started_at=started,
                trials_total=trials_total,
                worker_host=running and running.host,
                worker_start=running and running.started,
            )
            rows.insert_run(run)
        self._mirror(run.id)
        return run.id

    def _transition(
        self, run_id: str, status: RunStatus, owner: WorkerIdentity | None = None, **changes: Any
    ) -> None:
        with self._writing() as rows:
            check_move(run_id, rows.run_state(run_id), status, owner)
            rows.update_run(run_id, status=status, **changes)
            if status in TRIALS_ENDING_AS:
                rows.end_running_trials(run_id, TRIALS_ENDING_AS[status], time.time())
        self._mirror(run_id, with_history=status.finished)

    def claim_next(self, max_running: int) -> Run | None:
        """Mark the oldest queued run `running` if fewer than `max_running` are; one transaction.

        The claimed run has no worker until its process is attached, so two dispatchers can
        never start more runs than the limit, and a claim whose worker never started is
        found by its stale heartbeat.
        """
        now = time.time()
        with self._writing() as rows:
            if len(rows.run_ids(RunStatus.RUNNING)) >= max_running:
                return None
            queued = rows.run_ids(RunStatus.QUEUED)
            if not queued:
                return None
            run_id = queued[0]
            check_move(run_id, rows.run_state(run_id), RunStatus.RUNNING, None)
            rows.update_run(
                run_id,
                status=RunStatus.RUNNING,
                started_at=now,
                heartbeat_at=now,
                pid=None,
                worker_host=None,
                worker_start=None,
            )
        self._mirror(run_id)
        return self.get_run(run_id)

    def attach_worker(self, run_id: str, worker: WorkerIdentity) -> bool:
        """Give a claimed run its worker; False if another process holds it already."""
        with self._writing() as rows:
            if not may_attach(rows.run_state(run_id), worker):
                return False
            rows.update_run(
                run_id,
                pid=worker.pid,
                worker_host=worker.host,
                worker_start=worker.started,
                heartbeat_at=time.time(),
            )
            return True

    def start_run(self, run_id: str, worker: WorkerIdentity, trials_total: int) -> None:
        now = time.time()
        self._transition(
            run_id,
            RunStatus.RUNNING,
            pid=worker.pid,
            worker_host=worker.host,
            worker_start=worker.started,
            started_at=now,
            heartbeat_at=now,
            trials_total=trials_total,
        )

    def heartbeat(self, run_id: str, owner: WorkerIdentity) -> None:
        with self._writing() as rows:
            check_owned(f"run {run_id}", rows.run_state(run_id), owner)
            rows.update_run(run_id, heartbeat_at=time.time())

    def complete_run(
        self, run_id: str, result: RunResult, owner: WorkerIdentity | None = None
    ) -> None:
        self._transition(run_id, RunStatus.COMPLETED, owner, finished_at=time.time(), result=result)

    def fail_run(
        self, run_id: str, error: str, traceback: str = "", owner: WorkerIdentity | None = None
    ) -> None:
        self._transition(
            run_id,
            RunStatus.FAILED,
            owner,
            finished_at=time.time(),
            error=error,
            traceback=traceback,
        )

    def cancel_run(self, run_id: str, owner: WorkerIdentity | None = None) -> None:
        self._transition(run_id, RunStatus.CANCELLED, owner, finished_at=time.time())

    def interrupt_run(self, run_id: str, error: str) -> None:
        self._transition(run_id, RunStatus.INTERRUPTED, finished_at=time.time(), error=error)

    def requeue_run(self, run_id: str) -> None:
        """Queue an ended run again (resume): its trials and epochs stay."""
        self._transition(
            run_id,
            RunStatus.QUEUED,
            pid=None,
            worker_host=None,
            worker_start=None,
            heartbeat_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            traceback=None,
            result=None,
            cancel_requested=False,
        )

    def request_cancel(self, run_id: str) -> None:
        with self._writing() as rows:
            rows.update_run(run_id, cancel_requested=True)

    def describe_run(self, run_id: str, name: str | None = None, note: str | None = None) -> Run:
        """Set a run's name or note (None leaves it; an empty string clears it)."""
        given = (("name", name), ("note", note))
        with self._writing() as rows:
            rows.update_run(
                run_id, **{key: value or None for key, value in given if value is not None}
            )
        run = self.get_run(run_id)
        if run is None:
            raise UserError(f"There is no run '{run_id}' in this workspace; see lstm-core runs.")
        self._mirror(run_id, with_history=run.status.finished)
        return run

    def delete_run(self, run_id: str) -> None:
        """Its epochs, trials and row, in one transaction; refused while it is active."""
        with self._writing() as rows:
            check_deletable(run_id, rows.run_state(run_id))
            rows.delete_run(run_id)
