"""Score a model once on the held-out test split, and the TF-IDF baseline beside it.

A recurrent model that cannot beat a linear model on TF-IDF features is not yet well
configured, so every result carries the baseline trained on the very same split.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import make_pipeline

CURVE_POINTS = 200


def _thin(*arrays: np.ndarray) -> list[list[float]]:
    """Keep at most CURVE_POINTS points of a curve (enough to draw it)."""
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int))
    return [np.round(a[keep], 5).tolist() for a in arrays]


def evaluate(
    y_true: np.ndarray, proba: np.ndarray, classes: list[str], minority: str | None = None
) -> dict:
    """Accuracy, macro-F1, per-class report and confusion matrix; ROC / PR for two classes."""
    classes = [str(c) for c in classes]
    y_true = np.asarray(y_true).astype(str)
    y_pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    result = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
        ),
        "labels": classes,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "n_test": len(y_true),
    }
    if len(classes) == 2:
        positive = minority if minority in classes else classes[1]
        is_positive = y_true == positive
        score = proba[:, classes.index(positive)]
        if 0 < is_positive.sum() < len(is_positive):
            fpr, tpr, _ = roc_curve(is_positive, score)
            prec, rec, _ = precision_recall_curve(is_positive, score)
            result.update(
                positive_label=positive,
                roc_auc=float(roc_auc_score(is_positive, score)),
                pr_auc=float(average_precision_score(is_positive, score)),
                roc_curve=dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True)),
                pr_curve=dict(zip(("recall", "precision"), _thin(rec, prec), strict=True)),
            )
    return result


def baseline(x_train, y_train, x_test, y_test, minority: str | None = None, seed: int = 0) -> dict:
    """TF-IDF (words and bigrams) + logistic regression on the same split."""
    start = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    model.fit(x_train, np.asarray(y_train).astype(str))
    result = evaluate(y_test, model.predict_proba(x_test), list(model.classes_), minority)
    result["model"] = "TF-IDF (1-2 grams) + logistic regression"
    result["fit_seconds"] = round(time.perf_counter() - start, 3)
    return result
