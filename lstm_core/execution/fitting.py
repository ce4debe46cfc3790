"""One fit run to its end: build the model, train it with the run's callbacks, then score it
on its fold (or, for the refit, predict the test split and keep the model).

It never opens the store and never touches the workspace: what it reports travels through
its `TrialChannel` back to the run's own process, which writes it. Keras, scikeras and
scikit-learn load on the first fit, not on import, so an executor can be chosen cheaply.
"""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path

import numpy as np

from lstm_core.domain.entities import TrialStatus
from lstm_core.execution.trial import (
    RefitArtifacts,
    TrainingData,
    TrialChannel,
    TrialContext,
    TrialOutcome,
    TrialTask,
)


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
