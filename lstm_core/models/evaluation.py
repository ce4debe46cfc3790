"""Score a model once on the held-out test split, and the TF-IDF baseline beside it.

A recurrent model that cannot beat a linear model on TF-IDF features is not yet well
configured, so every result carries the baseline trained on the very same split.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import make_pipeline

from lstm_core.domain.entities import ClassScores, Evaluation, PrCurve, RocCurve

CURVE_POINTS = 200
BASELINE_NAME = "TF-IDF (1-2 grams) + logistic regression"


def _thin(*arrays: np.ndarray) -> list[list[float]]:
    """Keep at most CURVE_POINTS points of a curve (enough to draw it)."""
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int))
    return [np.round(a[keep], 5).tolist() for a in arrays]


def score_labels(scoring: str, y_true, y_pred, classes: list[str]) -> float:
    """A fold's score under the run's scoring (the names scikit-learn's scorers use)."""
    y_true, y_pred = np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)
    if scoring == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if scoring == "balanced_accuracy":
        return float(balanced_accuracy_score(y_true, y_pred))
    return float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0))


def predicted_labels(proba: np.ndarray, classes: list[str]) -> np.ndarray:
    return np.asarray([str(c) for c in classes], dtype=object)[np.asarray(proba).argmax(axis=1)]


def evaluate(
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: list[str],
    minority: str | None = None,
    model: str | None = None,
    fit_seconds: float | None = None,
) -> Evaluation:
    """Accuracy, macro-F1, per-class report and confusion matrix; ROC / PR for two classes."""
    classes = [str(c) for c in classes]
    y_true = np.asarray(y_true).astype(str)
    y_pred = predicted_labels(proba, classes).astype(str)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    curves = {}
    if len(classes) == 2:
        positive = minority if minority in classes else classes[1]
        is_positive = y_true == positive
        score = proba[:, classes.index(positive)]
        if 0 < is_positive.sum() < len(is_positive):
            fpr, tpr, _ = roc_curve(is_positive, score)
            prec, rec, _ = precision_recall_curve(is_positive, score)
            curves = dict(
                positive_label=positive,
                roc_auc=float(roc_auc_score(is_positive, score)),
                pr_auc=float(average_precision_score(is_positive, score)),
                roc_curve=RocCurve(*_thin(fpr, tpr)),
                pr_curve=PrCurve(*_thin(rec, prec)),
            )
    return Evaluation(
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
        labels=classes,
        per_class={
            label: ClassScores(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
            for i, label in enumerate(classes)
        },
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        n_test=len(y_true),
        model=model,
        fit_seconds=fit_seconds,
        **curves,
    )


def majority(y_train, y_test, classes: list[str], minority: str | None = None) -> Evaluation:
    """Always answering the training split's most frequent class: the floor a model must
    clear (0.61 accuracy on a data set that is 61% "Negative" is no skill at all)."""
    counts = Counter(np.asarray(y_train).astype(str).tolist())
    classes = [str(c) for c in classes]
    most = max(classes, key=lambda c: counts.get(c, 0))  # ties: the first class in order
    proba = np.zeros((len(y_test), len(classes)))
    proba[:, classes.index(most)] = 1.0
    return evaluate(y_test, proba, classes, minority, f"majority class ({most})", 0.0)


def baseline(
    x_train, y_train, x_test, y_test, minority: str | None = None, seed: int = 0
) -> tuple[Evaluation, np.ndarray]:
    """TF-IDF (words and bigrams) + logistic regression on the same split.

    Returns its evaluation and its predicted label for each test text.
    """
    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    model.fit(x_train, np.asarray(y_train).astype(str))
    proba = model.predict_proba(x_test)
    classes = [str(c) for c in model.classes_]
    seconds = round(time.perf_counter() - start, 3)
    result = evaluate(y_test, proba, classes, minority, BASELINE_NAME, seconds)
    return result, predicted_labels(proba, classes)
