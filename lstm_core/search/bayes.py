"""Bayesian searchers (TPE, Gaussian process) over Optuna, with pruning between epochs.

The study lives beside the run (`runs/RUN_ID/study.db`, Optuna's RDB storage on SQLite,
named after the run), so an interrupted run resumes where it stopped. Only the run's own
process talks to Optuna; fits never do. Invariants the loop relies on:

- a candidate's number is its Optuna trial number (nothing else creates trials);
- proposals depend only on what the study holds: a fresh sampler is built before every
  ask, seeded by (run seed, trial number), because a sampler's random state is not
  stored and a resumed run would otherwise propose other candidates;
- trials asked but never told (the run was killed) are re-attached on resume, with their
  parameters, and proposed again first; the fits they finished are not repeated.

Pruning reports one value per epoch, step = epoch: minus fold 0's validation loss (a
loss falls as a model gets better; Optuna maximizes here). Fold 0 is every candidate's
first fit, so the decision comes as early as it can and the same on every attempt.

Private Optuna API touched (hence `optuna<5.1`): `optuna.trial.Trial(study, trial_id)`
to re-attach a trial, and `FrozenTrial._trial_id`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from lstm_core.domain.errors import FitFailed
from lstm_core.domain.hyperparams import hyperparameter, settled
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.search.searcher import Candidate, Searcher

PRUNE_FOLD = 0
SAME_AS = "same_as"  # user attr of a trial that proposed an earlier candidate again
log = logging.getLogger("lstm_core")


def startup_trials(budget: int) -> int:
    """Candidates drawn at random before the model of the scores takes over (and before
    the pruner judges anyone): a quarter of the budget, from 2 to 10 (Optuna's default)."""
    return max(2, min(10, budget // 4))


def trial_seed(seed: int, number: int) -> int:
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def distributions(spec: ExperimentSpec) -> dict[str, Any]:
    """Ranges become Optuna's float or int distributions, lists of values categorical ones."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space: dict[str, Any] = {}
    moot = spec.moot()  # values that give the same model in every candidate: not searched
    grid = {name: values for name, values in spec.grid.items() if name not in moot}
    ranges = {name: r for name, r in spec.ranges.items() if name not in moot}
    for name, r in ranges.items():
        if hyperparameter(name).integer:
            space[name] = IntDistribution(int(r.low), int(r.high), log=r.log)
        else:
            space[name] = FloatDistribution(float(r.low), float(r.high), log=r.log)
    for name, values in grid.items():
        space[name] = CategoricalDistribution(values)
    return space


def make_pruner(spec: ExperimentSpec):
    import optuna

    startup = startup_trials(spec.n_candidates())
    if spec.prune == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=1)
    if spec.prune == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1,
            max_resource=int(spec.highest("epochs")) + spec.fine_tune_epochs,
            reduction_factor=3,
        )
    return optuna.pruners.NopPruner()


def _storage(path: Path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.storages.RDBStorage(
        sqlite_url(path), engine_kwargs={"connect_args": {"timeout": 30}}
    )


def open_study(path: Path, name: str, sampler=None, pruner=None):
    """The run's study. On first use Optuna writes its schema (about a second) into a
    scratch file that is then renamed, so a reader never meets a half-made database."""
    import optuna

    if not path.exists():
        scratch = path.with_name(f"{path.name}.{os.getpid()}.partial")
        scratch.unlink(missing_ok=True)
        storage = _storage(scratch)
        optuna.create_study(storage=storage, study_name=name, direction="maximize")
        storage.remove_session()
        storage.engine.dispose()
        scratch.replace(path)
    return optuna.create_study(
        storage=_storage(path),
        study_name=name,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )


def load_study(path: Path, name: str):
    """The study of a run for reading (plots), or None when the run has none."""
    if not path.exists():  # RDBStorage would create an empty database
        return None
    import optuna
    import sqlalchemy.exc

    try:
        return optuna.load_study(study_name=name, storage=_storage(path))
    except (KeyError, sqlalchemy.exc.SQLAlchemyError):  # no such study, or a damaged file
        return None


class BayesianSearcher(Searcher):
    """Ask a batch of `batch` candidates at a time (the run's parallel fits), tell each its
    mean fold score; a candidate pruned after an epoch is told PRUNED and gets no score."""

    def __init__(
        self,
        spec: ExperimentSpec,
        study_file: Path,
        study_name: str,
        batch: int,
        clock=time.monotonic,
    ):
        from optuna.trial import Trial, TrialState

        super().__init__()
        self.spec = spec
        self.batch = max(1, batch)
        self.budget = spec.n_candidates()
        self.space = distributions(spec)
        self.fixed = spec.fixed()
        self.clock = clock
        self.study = open_study(study_file, study_name, self._sampler(0), make_pruner(spec))
        self.live: dict[int, Trial] = {}
        self.reported: dict[int, set[int]] = {}
        self.configs: dict[int, dict[str, Any]] = {}
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.state == TrialState.COMPLETE and SAME_AS in frozen.user_attrs:
                continue
            if frozen.state == TrialState.COMPLETE:
                self.configs[frozen.number] = self._config(frozen.params)
                self.scores[(frozen.number, 0)] = frozen.value
            elif frozen.state == TrialState.PRUNED:
                self.pruned.add(frozen.number)
            elif frozen.state == TrialState.RUNNING:  # asked by an attempt that was killed
                self.study.sampler = self._sampler(frozen.number)  # for draws a kill cut short
                trial = Trial(self.study, frozen._trial_id)
                self._suggest(trial)  # the stored values
                self.live[frozen.number] = trial
                self.reported[frozen.number] = set(frozen.intermediate_values)
        if self.live:
            log.info("study resumes: candidate(s) %s proposed again", sorted(self.live))
        self._spent_before = float(self.study.user_attrs.get("spent_s", 0.0))
        self._started = clock()

    def _sampler(self, number: int):
        import optuna

        from lstm_core.search.gaussian_process import ScikitGPSampler  # scikit-learn: lazily

        seed = trial_seed(self.spec.seed, number)
        startup = startup_trials(self.spec.n_candidates())
        if self.spec.search == "gp":
            return ScikitGPSampler(seed=seed, n_startup_trials=startup)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)

    def _suggest(self, trial) -> dict[str, Any]:
        from optuna.distributions import CategoricalDistribution, IntDistribution

        for name, dist in self.space.items():
            if isinstance(dist, CategoricalDistribution):
                trial.suggest_categorical(name, dist.choices)
            elif isinstance(dist, IntDistribution):
                trial.suggest_int(name, dist.low, dist.high, log=dist.log)
            else:
                trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        return trial.params

    def _config(self, params: dict[str, Any]) -> dict[str, Any]:
        """The full configuration, None where a value does not matter (`settled`)."""
        return settled({**self.fixed, **params})

    def _candidate(self, trial) -> Candidate:
        config = self._config(trial.params)
        self.configs[trial.number] = config
        return Candidate(trial.number, config)

    def spent_s(self) -> float:
        """Search time so far, over every attempt of the run."""
        return self._spent_before + self.clock() - self._started

    def _out_of_time(self) -> bool:
        return bool(self.spec.time_budget_s) and self.spent_s() >= self.spec.time_budget_s

    def ask(self) -> list[Candidate]:
        """The candidates asked by a killed attempt first, then new ones up to a batch.

        A sampler may propose a finished candidate's values again (lists of values are a
        finite space): that trial is told the earlier score at once, costs its place in the
        budget, and trains nothing.
        """
        batch = [self._candidate(t) for _, t in sorted(self.live.items())]
        self._save_spent()
        while len(batch) < self.batch and not self._out_of_time():
            asked = len(self.study.get_trials(deepcopy=False))
            if asked >= self.budget:
                break
            self.study.sampler = self._sampler(asked)
            trial = self.study.ask()
            config = self._config(self._suggest(trial))
            scored = (n for n, c in self.configs.items() if c == config and (n, 0) in self.scores)
            earlier = next(scored, None)
            if earlier is not None:
                trial.set_user_attr(SAME_AS, earlier)
                self.study.tell(trial, self.scores[(earlier, 0)])
                continue
            self.live[trial.number] = trial
            self.reported[trial.number] = set()
            self.configs[trial.number] = config
            batch.append(Candidate(trial.number, config))
        return batch

    def report(self, candidate: int, fold: int | None, epoch: int, value: float) -> bool:
        """One epoch of a fit; True when the candidate is to stop (it is told PRUNED)."""
        from optuna.trial import TrialState

        trial = self.live.get(candidate)
        if trial is None or fold != PRUNE_FOLD or not self.spec.pruning:
            return False
        seen = self.reported.setdefault(candidate, set())
        if epoch not in seen:  # a resumed fit reports its epochs again
            trial.report(float(value), epoch)  # (a diverged fit's nan is pruned)
            seen.add(epoch)
        if not trial.should_prune():
            return False
        self.study.tell(trial, state=TrialState.PRUNED)
        self.live.pop(candidate)
        self.pruned.add(candidate)
        log.info("candidate %d pruned after epoch %d", candidate, epoch + 1)
        return True

    def tell(self, candidate: Candidate, score: float) -> None:
        super().tell(candidate, score)
        self.study.tell(candidate.number, score, skip_if_finished=True)
        self.live.pop(candidate.number, None)
        self._save_spent()

    def _save_spent(self) -> None:
        self.study.set_user_attr("spent_s", round(self.spent_s(), 3))

    def best(self) -> Candidate:
        told = [Candidate(n, self.configs[n]) for (n, _) in self.scores]
        if not told:
            raise FitFailed(
                "Every candidate was pruned before finishing; turn pruning off or raise the budget."
            )
        return self._best_of(told)
