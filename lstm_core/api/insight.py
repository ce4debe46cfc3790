"""The door's insight facet: what a design will cost and what to change in it, what a
Bayesian search tried, and where a finished run's model goes wrong on its held-out texts."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from lstm_core.api.datasets import DatasetsFacet
from lstm_core.domain.analysis import (
    CalibrationBin,
    HeldOutText,
    LengthSlice,
    TestPrediction,
    ThresholdMetrics,
)
from lstm_core.domain.entities import Estimate, RunResult
from lstm_core.domain.errors import UserError
from lstm_core.domain.plain import from_plain
from lstm_core.domain.search_history import Dimension, SearchHistory, SearchState, SearchTrial
from lstm_core.domain.searches import BAYESIAN
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.insight.advice import design_advice
from lstm_core.insight.baseline_advice import baseline_advice
from lstm_core.models.model_zoo import ModelSummary, model_summary

if TYPE_CHECKING:
    import optuna


class InsightFacet(DatasetsFacet):
    """Estimates and advice before a run; its search and its errors after."""

    def __init__(self, root: str | os.PathLike | None = None):
        super().__init__(root)
        self._held_out: dict[tuple, list[HeldOutText]] = {}
        self._studies: dict[str, optuna.Study] = {}  # one database connection per study

    def estimate(
        self, spec: ExperimentSpec, auto_length: int | None = None, here: bool = False
    ) -> Estimate:
        """The run's wall time with a range and its basis, learned from this workspace's
        newest finished runs on this machine (a rough guess before the first).

        `auto_length` is the dataset's 'auto' sequence length, when the caller has it;
        `here`: the run will train in this process (`train`), not in a worker.
        """
        from lstm_core.insight.estimates import estimate_run

        dataset = self.dataset(spec.dataset_id)
        if auto_length is None:
            auto_length = self.dataset_lengths(spec.dataset_id).auto_length

        def auto_length_of(dataset_id: str) -> int:
            return self.dataset_lengths(dataset_id).auto_length

        return estimate_run(self.workspace, spec, dataset.rows, auto_length, auto_length_of, here)

    def advice(self, spec: ExperimentSpec, auto_length: int | None = None) -> list[str]:
        return design_advice(spec, auto_length)

    def baseline_advice(self, result: RunResult) -> list[str]:
        """Where the TF-IDF baseline beats a finished run, and what to try (empty if not)."""
        return baseline_advice(result)

    def model_summary(self, spec: ExperimentSpec, arch: str, auto_length: int) -> ModelSummary:
        """Layers and parameters of `arch`'s candidates, the embedding sized to the words the
        whole dataset keeps under each candidate's text settings (a fold keeps a few less),
        or to the saved model's vocabulary it starts from; frozen layers marked."""
        n_classes = len(self.dataset(spec.dataset_id).class_counts)
        parent = self.result(spec.parent) if spec.parent else None

        def vocabulary(config: dict) -> int:
            if parent is not None:
                return parent.vocabulary_size
            return self.vocabulary_size(spec.dataset_id, config)

        candidates = spec.candidates()
        frozen = spec.frozen_for(candidates[0])
        return model_summary(candidates, arch, n_classes, auto_length, vocabulary, frozen)

    def search_history(self, run_id: str) -> SearchHistory | None:
        """What a Bayesian run's search proposed and scored so far (its figures); None for
        other runs or before the run has asked for its first candidate."""
        run = self.run(run_id)
        path = self.workspace.study_file(run.id)
        if run.spec.search not in BAYESIAN or not path.exists():
            self._studies.pop(run.id, None)
            return None
        if run.id not in self._studies:
            from lstm_core.search.bayes import load_study

            study = load_study(path, run.id)
            if study is None:
                return None
            self._studies[run.id] = study  # it reads the trials afresh on every call
        return _history(self._studies[run.id])

    def test_predictions(self, run_id: str) -> list[TestPrediction]:
        """The held-out texts with what the model and the baseline said (empty if not kept;
        a sentence if the run's folder was removed)."""
        run = self.run(run_id)
        path = self.workspace.predictions_file(run.id)
        if not path.exists():
            lost = self.workspace.files_problem(run)
            if lost is not None:
                raise UserError(lost)
            return []
        with open(path, encoding="utf-8") as handle:
            return [from_plain(TestPrediction, json.loads(line)) for line in handle if line.strip()]

    def held_out(self, run_id: str) -> list[HeldOutText]:
        """The held-out texts with the model's and the baseline's answers, each with its
        loss, length and whether it also is a training text (empty if none were kept)."""
        path = self.workspace.predictions_file(self.run(run_id).id)
        key = (run_id, path.stat().st_mtime_ns if path.exists() else None)
        if key not in self._held_out:  # a slider's every move asks again
            self._held_out = {key: self._analysed(run_id)}  # one run at a time is looked at
        return self._held_out[key]

    def _analysed(self, run_id: str) -> list[HeldOutText]:
        from lstm_core.data.datasets import load_dataset
        from lstm_core.data.vectorizer import SequenceVectorizer
        from lstm_core.insight.error_analysis import held_out

        predictions = self.test_predictions(run_id)
        if not predictions:
            return []
        run = self.run(run_id)
        texts = load_dataset(self.workspace, run.dataset.id).texts
        test_rows = {p.row for p in predictions}
        train_texts = [t for i, t in enumerate(texts) if i not in test_rows]
        fixed = run.spec.fixed()
        tokenize = SequenceVectorizer(
            lowercase=fixed["lowercase"],
            strip_punctuation=fixed["strip_punctuation"],
            strip_html=fixed["strip_html"],
        ).tokenize
        return held_out(predictions, train_texts, tokenize)

    def metrics_by_length(self, run_id: str) -> list[LengthSlice]:
        from lstm_core.insight.error_analysis import by_length

        return by_length(self.held_out(run_id))

    def threshold_metrics(self, run_id: str, positive: str, threshold: float) -> ThresholdMetrics:
        """A two-class run decided at `threshold` on `positive`'s probability."""
        from lstm_core.insight.error_analysis import at_threshold

        negative = self._other_class(run_id, positive)
        return at_threshold(self.held_out(run_id), positive, negative, threshold)

    def calibration(self, run_id: str, positive: str, bins: int = 10) -> list[CalibrationBin]:
        from lstm_core.insight.error_analysis import calibration

        self._other_class(run_id, positive)
        return calibration(self.held_out(run_id), positive, bins)

    def _other_class(self, run_id: str, positive: str) -> str:
        result = self.result(run_id)
        labels = result.test.labels if result else []
        if len(labels) != 2 or positive not in labels:
            raise UserError(
                f"A decision threshold needs a two-class run and one of its classes; run "
                f"{run_id} has {', '.join(labels) or 'no result'}."
            )
        if not self.held_out(run_id):
            raise UserError(
                f"Run {run_id} kept no held-out predictions (an older version trained it); "
                "train it again to analyse them."
            )
        return next(label for label in labels if label != positive)

    def errors(self, run_id: str) -> list[TestPrediction]:
        """The held-out texts the model got wrong, most confidently wrong first."""
        wrong = [p for p in self.test_predictions(run_id) if p.predicted != p.true]
        return sorted(wrong, key=lambda p: p.probabilities.get(p.true, 0.0))


def _history(study: optuna.Study) -> SearchHistory:
    """The study's trials and search space in the engine's terms."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    space: dict[str, Dimension] = {}
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        for name, dist in trial.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                space[name] = Dimension(choices=tuple(dist.choices))
            else:
                integer = isinstance(dist, IntDistribution)
                space[name] = Dimension(low=dist.low, high=dist.high, log=dist.log, integer=integer)
    return SearchHistory(
        trials=[
            SearchTrial(t.number, _STATES[t.state.name], t.value, dict(t.params)) for t in trials
        ],
        space=space,
    )


_STATES = {
    "RUNNING": SearchState.RUNNING,
    "COMPLETE": SearchState.COMPLETE,
    "PRUNED": SearchState.PRUNED,
    "FAIL": SearchState.FAILED,
    "WAITING": SearchState.WAITING,
}
