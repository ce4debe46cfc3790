"""One fit, described completely enough to run anywhere: this process, a fit process, a cluster.

A `TrialTask` says what to fit (a full configuration, the rows to train on and the rows to
score, the seed); the `TrialContext` says whose fit it is (run, trial id, candidate, round,
fold), given to it before it starts, never inferred afterwards. While it fits it sends
events (`EpochEnded`, `FitProgress`) through a `TrialChannel` and asks the channel whether
to stop; it returns a `TrialOutcome`. It never opens the store and never touches the
workspace: records travel back to the run's own process, which writes them.
"""

from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from lstm_core.domain.entities import Epoch, ParameterCounts, TrialStatus
from lstm_core.domain.hyperparams import model_key

if TYPE_CHECKING:
    from lstm_core.models.starting import StartingPoint


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Every text and label of a dataset; tasks name rows of it by index. `start`: what
    every fit starts from besides random weights (a saved model, word vectors)."""

    texts: np.ndarray
    labels: np.ndarray
    start: StartingPoint | None = None


@dataclass(frozen=True, eq=False)
class TrialTask:
    run_id: str
    candidate: int
    round: int
    fold: int | None  # None: the refit of the best candidate on the whole training split
    config: dict[str, Any]
    fit_rows: np.ndarray
    eval_rows: np.ndarray
    scoring: str
    seed: int

    @property
    def is_refit(self) -> bool:
        return self.fold is None

    @property
    def key(self) -> tuple:
        """What identifies this fit within its run (and lets a resumed run skip it)."""
        return (self.candidate, self.round, self.fold)

    @property
    def model_key(self) -> tuple:
        return model_key(self.config)


@dataclass(frozen=True)
class TrialContext:
    run_id: str
    trial_id: int
    candidate: int
    round: int
    fold: int | None


@dataclass(frozen=True)
class EpochEnded:
    epoch: Epoch


@dataclass(frozen=True)
class FitProgress:
    trial_id: int
    fraction: float


@dataclass(frozen=True, eq=False)
class RefitArtifacts:
    """What the run needs from its refit to evaluate it and write the bundle."""

    model_file: bytes  # the `.keras` file
    vectorizer_json: str
    classes: list[str]
    test_proba: np.ndarray
    sequence_length: int
    longest_text_tokens: int
    vocabulary_size: int
    parameters: ParameterCounts
    backend: str  # the Keras backend it trained on (`lstm_core.models.backend`)


@dataclass(frozen=True, eq=False)
class TrialOutcome:
    context: TrialContext
    status: TrialStatus
    score: float | None = None
    accuracy: float | None = None
    error: str | None = None
    traceback: str | None = None
    refit: RefitArtifacts | None = field(default=None, repr=False)


class TrialChannel(Protocol):
    """Where a fit reports to, and how it learns that its run wants it to stop."""

    def send(self, event: EpochEnded | FitProgress) -> None: ...

    def stop_requested(self) -> bool: ...


def fit_trial(
    task: TrialTask, context: TrialContext, data: TrainingData, channel: TrialChannel
) -> TrialOutcome:
    """Fit, score (or for the refit, predict the test split); exceptions become `failed`."""
    try:
        return _fit(task, context, data, channel)
    except Exception as exc:  # the run decides what a failed fit means
        return TrialOutcome(
            context,
            TrialStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )


def _fit(
    task: TrialTask, context: TrialContext, data: TrainingData, channel: TrialChannel
) -> TrialOutcome:
    import keras

    from lstm_core.execution.callbacks import EpochReporter, StopWhenAsked
    from lstm_core.models.evaluation import score_labels
    from lstm_core.models.pipeline import fit_pipeline, make_pipeline
    from lstm_core.models.starting import fitted_vectorizer

    if channel.stop_requested():
        return TrialOutcome(context, TrialStatus.CANCELLED)
    # A fresh Keras state per fit; its garbage collection also hands finished fits' models
    # back to the kept-model pool.
    keras.backend.clear_session()
    pipeline = make_pipeline(task.config, seed=task.seed, start=data.start)
    epochs = int(task.config["epochs"]) + (data.start.fine_tune_epochs if data.start else 0)
    stopper = StopWhenAsked(channel, epochs)
    pipeline.set_params(
        clf__fit__callbacks=[EpochReporter(context.trial_id, channel, epochs), stopper]
    )
    fit_pipeline(
        pipeline,
        data.texts[task.fit_rows],
        data.labels[task.fit_rows],
        task.config,
        data.start,
        task.seed,
    )
    if stopper.stopped:
        return TrialOutcome(context, TrialStatus.CANCELLED)
    proba = pipeline.predict_proba(data.texts[task.eval_rows])
    classes = [str(c) for c in pipeline.classes_]
    if not task.is_refit:
        predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        truth = data.labels[task.eval_rows]
        score = score_labels(task.scoring, truth, predicted, classes)
        accuracy = score_labels("accuracy", truth, predicted, classes)
        return TrialOutcome(context, TrialStatus.COMPLETED, score=score, accuracy=accuracy)
    vectorizer = fitted_vectorizer(pipeline.named_steps["vec"])
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.keras"
        pipeline.named_steps["clf"].model_.save(path)
        model_file = path.read_bytes()
    artifacts = RefitArtifacts(
        model_file=model_file,
        vectorizer_json=vectorizer.to_json(),
        classes=classes,
        test_proba=np.asarray(proba, dtype=np.float32),
        sequence_length=vectorizer.sequence_length_,
        # this run's texts: a saved model's vectorizer measured the texts it was fitted on
        longest_text_tokens=max(
            (len(vectorizer.tokenize(t)) for t in data.texts[task.fit_rows]), default=0
        ),
        vocabulary_size=vectorizer.vocabulary_size_,
        parameters=pipeline.named_steps["clf"].parameters_,
        backend=keras.backend.backend(),
    )
    return TrialOutcome(context, TrialStatus.COMPLETED, refit=artifacts)
