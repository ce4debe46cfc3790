"""What a finished run keeps: its result record, its held-out predictions, its bundle.

Built from two parts of a run, named so that `lstm_core.execution.training` reads as the
order of its steps: `RunSplit` (the rows it trains on and the rows it holds out) and
`Fitted` (what its fits gave). Loaded only when a run trains: it brings scikit-learn.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_core.domain.analysis import TestPrediction
from lstm_core.domain.entities import Epoch, Evaluation, RunResult, Trial, TrialStatus
from lstm_core.domain.plain import to_plain
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.execution.run_loop import SearchOutcome
from lstm_core.execution.trial import RefitArtifacts
from lstm_core.models.bundle import save_bundle
from lstm_core.models.evaluation import evaluate, majority, predicted_labels
from lstm_core.models.starting import StartingPoint, vectors_coverage


@dataclass(frozen=True, eq=False)
class RunSplit:
    """A run's texts and labels, the rows it trains on and the rows it holds out, and what
    its fits start from besides random weights (a saved model, word vectors)."""

    texts: np.ndarray
    labels: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray
    start: StartingPoint | None
    repeats: str = ""  # how repeated texts fell (`RepeatedTexts`)

    @property
    def minority(self) -> str:
        """The training split's rarest class (its scores are reported on their own)."""
        counts = Counter(self.labels[self.train_rows].tolist())
        return min(counts, key=counts.get)


@dataclass(frozen=True, eq=False)
class Fitted:
    """What a run's fits gave: the search's best candidate, its refit on the whole training
    split, and the TF-IDF baseline fitted beside it (with its label for each held-out text)."""

    search: SearchOutcome
    refit: RefitArtifacts
    baseline: Evaluation
    baseline_predicted: np.ndarray
    seconds: float  # the search and the refit, wall time


@dataclass(frozen=True)
class HeldOutScores:
    """The refit's scores on the held-out rows, and those of always answering the training
    split's most frequent class (the floor a model must clear)."""

    test: Evaluation
    majority: Evaluation


def held_out_scores(split: RunSplit, fitted: Fitted) -> HeldOutScores:
    refit, truth = fitted.refit, split.labels[split.test_rows]
    test = evaluate(truth, refit.test_proba, refit.classes, split.minority)
    floor = majority(split.labels[split.train_rows], truth, refit.classes, split.minority)
    return HeldOutScores(test, floor)


def test_predictions(split: RunSplit, fitted: Fitted) -> list[TestPrediction]:
    """Each held-out text with its label, the model's and the baseline's."""
    refit = fitted.refit
    predicted = predicted_labels(refit.test_proba, refit.classes)
    return [
        TestPrediction(
            row=int(row),
            text=str(split.texts[row]),
            true=str(split.labels[row]),
            predicted=str(predicted[i]),
            probabilities={
                c: round(float(p), 6)
                for c, p in zip(refit.classes, refit.test_proba[i], strict=True)
            },
            baseline_predicted=str(fitted.baseline_predicted[i]),
        )
        for i, row in enumerate(split.test_rows)
    ]


def save_predictions(path: Path, predictions: list[TestPrediction]) -> None:
    """One JSON line per held-out text, written whole or not at all."""
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


def run_result(
    spec: ExperimentSpec,
    split: RunSplit,
    fitted: Fitted,
    scores: HeldOutScores,
    trials: list[Trial],
    epochs: list[Epoch],
    launch_load: float,
) -> RunResult:
    """The run's record: the winner, its held-out scores beside the baselines', and what
    the search cost."""
    search, refit = fitted.search, fitted.refit
    best_fits = [
        t.accuracy
        for t in trials
        if (t.candidate, t.round) == (search.best.number, search.best.round)
        and not t.is_refit
        and t.status == TrialStatus.COMPLETED
    ]
    epoch_seconds = [e.seconds for e in epochs if e.seconds is not None]
    return RunResult(
        best_params={
            name: value
            for name, value in search.best.config.items()
            if (name in spec.grid or name in spec.ranges)
            and not (name == "activation" and value is None)
        },
        best_config=search.best.config,
        cv_best_score=search.best_score,
        scoring=spec.scoring,
        test=scores.test,
        baseline=fitted.baseline,
        n_train=len(split.train_rows),
        n_test=len(split.test_rows),
        sequence_length=refit.sequence_length,
        longest_text_tokens=refit.longest_text_tokens,
        vocabulary_size=refit.vocabulary_size,
        search_seconds=round(fitted.seconds, 2),
        grid_seconds=round(search.grid_seconds, 2),
        median_epoch_seconds=round(statistics.median(epoch_seconds), 3) if epoch_seconds else None,
        fits=sum(t.status == TrialStatus.COMPLETED and not t.is_refit for t in trials) + 1,
        repeats=split.repeats,
        best_candidate=search.best.number,
        majority=scores.majority,
        # fits scored before fits recorded their accuracy (a resumed old run) have none
        cv_accuracy=statistics.fmean(best_fits) if best_fits and None not in best_fits else None,
        parent=spec.parent or None,
        parameters=refit.parameters,
        vectors=vectors_coverage(split.start, refit.vectorizer_json, split.texts[split.train_rows]),
        backend=refit.backend,
        launch_load=round(launch_load, 2),
    )


def save_run_bundle(
    folder: Path, spec: ExperimentSpec, fitted: Fitted, scores: HeldOutScores
) -> None:
    """The refit's model with what it needs to predict, and its held-out scores."""
    refit = fitted.refit
    save_bundle(
        folder,
        refit.model_file,
        refit.vectorizer_json,
        refit.classes,
        spec.to_dict(),
        {
            "test": to_plain(scores.test),
            "baseline": to_plain(fitted.baseline),
            "majority": to_plain(scores.majority),
            "best_config": fitted.search.best.config,
        },
    )
