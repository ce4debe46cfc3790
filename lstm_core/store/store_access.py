"""How the run store reaches its rows, whatever the backend: the refusal of a lost
database, the one step that creates or migrates the schema, fits done counted, and the
copy of each run's record in its folder.

A workspace whose runs left records in their folders had a database: a missing one is
reported, never silently started anew (only `doctor --repair` creates it `anew`). Every
change of a run is mirrored into its folder (`run_files`), from which `lstm-core doctor
--repair` rebuilds what was lost.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from lstm_core.domain.entities import Run
from lstm_core.store.backend import Backend, Rows
from lstm_core.store.fit_counts import fits_done
from lstm_core.store.run_files import RunArchive
from lstm_core.store.store_errors import StoreDamaged


class StoreAccess:
    def __init__(self, backend: Backend, archive: RunArchive | None = None):
        """Open without writing, but for an older schema, migrated first (`upgrade`)."""
        self.backend = backend
        self.archive = archive
        self.read_only = backend.read_only
        if backend.outdated:
            self.upgrade()

    @contextmanager
    def _reading(self) -> Iterator[Rows]:
        if not self.backend.exists():
            self._refuse_a_lost_database()
        with self.backend.reading() as rows:
            yield rows

    @contextmanager
    def _writing(self) -> Iterator[Rows]:
        """One transaction; a workspace's first write creates its database."""
        if not self.backend.read_only and not self.backend.exists():
            self.upgrade()
        with self.backend.writing() as rows:
            yield rows

    def _refuse_a_lost_database(self) -> None:
        folders = [] if self.archive is None else self.archive.recorded_runs()
        if folders:
            raise StoreDamaged(
                f"The run database {self.backend.location} is missing, but {len(folders)} run "
                "folder(s) remain; nothing was changed. Run `lstm-core doctor --repair` to "
                "rebuild it from them."
            )

    def upgrade(self, anew: bool = False) -> int:
        """Create or migrate the schema (a new workspace's first write, or an older
        database's first open); returns the version found. A database lost beside run
        folders is only created `anew` (`doctor --repair` rebuilding it)."""
        if not anew and not self.backend.exists():
            self._refuse_a_lost_database()
        upgraded = self.backend.upgrade()
        if upgraded.copy_to_folders:
            self._mirror_everything()
        return upgraded.found

    @staticmethod
    def _counted(rows: Rows, runs: list[Run]) -> list[Run]:
        """The runs with their fits done (`fit_counts.fits_done`)."""
        tallies = rows.fit_tallies([run.id for run in runs])
        return [
            dataclasses.replace(
                run, trials_done=fits_done(tallies.get(run.id, []), run.spec.n_splits())
            )
            for run in runs
        ]

    def _mirror_everything(self) -> None:
        """Records of a workspace from before runs were copied into their folders."""
        if self.archive is None:
            return
        with self._reading() as rows:
            datasets, runs = rows.datasets(), rows.newest_runs(limit=1_000_000)
        for dataset in datasets:
            self.archive.save_dataset(dataset)
        for run in runs:
            self._mirror(run.id, with_history=run.status.finished)

    def _mirror(self, run_id: str, with_history: bool = False) -> None:
        """Copy the run's record into its folder (best effort: the database already has it).

        Read and written under the folder's lock, so the last copy is of the latest state.
        """
        if self.archive is None:
            return
        with self.archive.locked(run_id):
            try:
                with self._reading() as rows:
                    run = rows.run(run_id)
                    if run is None:
                        return
                    run = self._counted(rows, [run])[0]
                    history = (
                        (rows.trials(run_id), rows.epochs(run_id)) if with_history else ([], [])
                    )
                    result = rows.result(run_id)
            except StoreDamaged as exc:  # the folder keeps its last good copy
                warnings.warn(f"run {run_id} was not copied to its folder: {exc}", stacklevel=2)
                return
            self.archive.save_run(run, result, *history)
