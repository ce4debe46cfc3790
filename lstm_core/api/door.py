"""What every facet of the `Engine` stands on: the workspace and the lookups that turn an id
into an entity, or into one sentence saying why there is none."""

from __future__ import annotations

import os
from pathlib import Path

from lstm_core.domain.entities import Dataset, Epoch, Run, RunResult, Trial
from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.store.workspace import Workspace

SPEC_DEFAULTS = ExperimentSpec("")  # the defaults of every design choice
MAX_NAME_CHARS = 80  # a run's name fits a picker's line
MAX_NOTE_CHARS = 2_000


class Door:
    """The workspace a facet works in, and its lookups by id."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.workspace = Workspace(root)

    @property
    def root(self) -> Path:
        return self.workspace.root

    def dataset(self, dataset_id: str) -> Dataset:
        dataset = self.workspace.store.get_dataset(dataset_id)
        if dataset is None:
            raise UserError(
                f"There is no dataset '{dataset_id}' in {self.root}; see lstm-core datasets."
            )
        return dataset

    def run(self, run_id: str) -> Run:
        run = self.workspace.store.get_run(run_id)
        if run is None:
            raise UserError(f"There is no run '{run_id}' in {self.root}; see lstm-core runs.")
        return run

    def trials(self, run_id: str) -> list[Trial]:
        return self.workspace.store.trials(run_id)

    def epochs(self, run_id: str) -> list[Epoch]:
        return self.workspace.store.epochs(run_id)

    def result(self, run_id: str) -> RunResult | None:
        """The finished run's result; None until it completes."""
        return self.workspace.store.get_result(run_id)

    def files_problem(self, run: Run) -> str | None:
        """What of an ended run's files was removed outside the workbench (its folder, its
        model), in one sentence; None when nothing is missing."""
        return self.workspace.files_problem(run)

    def _bundle_dir(self, run_id: str) -> Path:
        """The run's model folder, or a sentence saying why there is none."""
        bundle = self.workspace.bundle_dir(run_id)
        if bundle.is_dir():
            return bundle
        run = self.run(run_id)
        lost = self.workspace.files_problem(run)
        if lost is not None:
            raise UserError(f"{lost} Delete the run (lstm-core delete) or train it again.")
        raise UserError(
            f"Run '{run_id}' has no saved model: it is {run.status}, and only a completed "
            "run has one; see lstm-core runs."
        )


def within(text: str, limit: int, what: str) -> str:
    """`text` when it has at most `limit` characters, else a sentence saying to shorten it."""
    if len(text) > limit:
        raise UserError(
            f"{what} can have at most {limit:,} characters; this one has {len(text):,}: shorten it."
        )
    return text
