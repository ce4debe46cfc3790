"""One configuration (people's hyperparameter names) -> Pipeline(vectorizer -> classifier).

Hyperparameters stay data: the table in `lstm_core.domain.hyperparams` routes each name to the
vectorizer, the Keras model builder or the fit, and the classifier's `preprocessing`
carries the vectorizer settings its input went through.
"""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

from lstm_core.domain.hyperparams import FIT, HYPERPARAMETERS, MODEL, VECTORIZER, targets
from lstm_core.models import starting
from lstm_core.models.classifier import RecurrentClassifier
from lstm_core.models.starting import StartingPoint

PREDICT_BATCH = 256  # scoring a fold: half the time of batches of 32 (bench/RESULTS.md)


def pipeline_name(name: str) -> str:
    """`units` -> `clf__model__units`: the name a scikit-learn search over the pipeline uses."""
    target = HYPERPARAMETERS[name].target
    return {MODEL: f"clf__model__{name}", FIT: f"clf__{name}", VECTORIZER: f"vec__{name}"}[target]


def make_pipeline(
    config: dict[str, Any], seed: int = 0, start: StartingPoint | None = None
) -> Pipeline:
    """An unfitted pipeline for a full configuration (every hyperparameter named); with a
    saved model to `start` from, its fitted vectorizer is the first step, as it is."""
    preprocessing = {name: config[name] for name in targets(VECTORIZER)}
    classifier = RecurrentClassifier(
        preprocessing=preprocessing,
        seed=seed,
        loss="sparse_categorical_crossentropy",
        verbose=0,
        predict__batch_size=PREDICT_BATCH,
        **{
            pipeline_name(name)[len("clf__") :]: config[name]
            for name in targets(MODEL) + targets(FIT)
        },
    )
    return Pipeline([("vec", starting.vectorizer(start, preprocessing)), ("clf", classifier)])


def fit_pipeline(
    pipeline: Pipeline,
    texts,
    labels,
    config: dict[str, Any],
    start: StartingPoint | None = None,
    seed: int = 0,
) -> Pipeline:
    """`pipeline.fit`, except that the classifier's starting weights (word vectors for the
    words the vectorizer kept, a saved model's layers) are set between the two steps."""
    if start is None:
        return pipeline.fit(texts, labels)
    vec, clf = pipeline.named_steps["vec"], pipeline.named_steps["clf"]
    vec.fit(texts, labels)
    weights = starting.initial_weights(start, starting.fitted_vectorizer(vec), config, seed)
    clf.set_params(start=weights)
    clf.fit(vec.transform(texts), labels)
    return pipeline
