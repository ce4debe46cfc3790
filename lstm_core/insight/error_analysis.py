"""Where a model fails on its held-out texts: per text, per length, per decision threshold.

Everything here reads the held-out predictions a run kept (`predictions.jsonl`), so it
costs no model and no TensorFlow: the Errors page opens at once. Plain NumPy, checked
against scikit-learn's metrics in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.domain.analysis import (
    CalibrationBin,
    HeldOutText,
    LengthSlice,
    TestPrediction,
    ThresholdMetrics,
)

LENGTH_EDGES = (5, 10, 20, 40)  # token counts: 1-5, 6-10, 11-20, 21-40, over 40
PROBABILITY_FLOOR = 1e-7  # a loss stays finite when the true class got probability 0


def held_out(
    predictions: list[TestPrediction], train_texts, tokenize: Callable[[str], list] | None = None
) -> list[HeldOutText]:
    """Each held-out text with its loss, its length in tokens (as the run's vectorizer
    splits it), and whether the very same text is also among the training texts (spam.csv
    repeats 403 of its texts)."""
    seen = {str(text) for text in train_texts}
    tokenize = tokenize or SequenceVectorizer().tokenize
    return [
        HeldOutText(
            **{f: getattr(p, f) for f in ("row", "text", "true", "predicted", "probabilities")},
            baseline_predicted=p.baseline_predicted,
            loss=round(-math.log(max(p.probabilities.get(p.true, 0.0), PROBABILITY_FLOOR)), 6),
            tokens=len(tokenize(p.text)),
            in_training=p.text in seen,
        )
        for p in predictions
    ]


def _macro_f1(truth: list[str], predicted: list[str]) -> float:
    classes = sorted(set(truth) | set(predicted))
    scores = []
    for label in classes:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def _accuracy(truth: list[str], predicted: list[str]) -> float:
    return float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])) if truth else 0.0


def length_label(tokens: int) -> str:
    low = 1
    for edge in LENGTH_EDGES:
        if tokens <= edge:
            return f"{low}-{edge} words"
        low = edge + 1
    return f"over {LENGTH_EDGES[-1]} words"


def by_length(items: list[HeldOutText]) -> list[LengthSlice]:
    """Accuracy and macro-F1 of the model and the baseline per text-length bucket."""
    order = [length_label(n) for n in (*LENGTH_EDGES, LENGTH_EDGES[-1] + 1)]
    slices = []
    for label in order:
        part = [item for item in items if length_label(max(item.tokens, 1)) == label]
        if not part:
            continue
        truth = [item.true for item in part]
        model = [item.predicted for item in part]
        baseline = [item.baseline_predicted for item in part]
        slices.append(
            LengthSlice(
                label,
                len(part),
                round(_accuracy(truth, model), 4),
                round(_macro_f1(truth, model), 4),
                round(_accuracy(truth, baseline), 4),
                round(_macro_f1(truth, baseline), 4),
            )
        )
    return slices


def at_threshold(
    items: list[HeldOutText], positive: str, negative: str, threshold: float
) -> ThresholdMetrics:
    """Label a text `positive` when its probability reaches `threshold`, else `negative`."""
    truth = np.array([item.true == positive for item in items], dtype=bool)
    chosen = np.array(
        [item.probabilities.get(positive, 0.0) >= threshold for item in items], dtype=bool
    )
    tp = int(np.sum(truth & chosen))
    fp = int(np.sum(~truth & chosen))
    fn = int(np.sum(truth & ~chosen))
    tn = int(np.sum(~truth & ~chosen))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ThresholdMetrics(
        threshold=threshold,
        positive=positive,
        negative=negative,
        confusion_matrix=[[tp, fn], [fp, tn]],
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(f1, 6),
        accuracy=round((tp + tn) / len(items), 6) if items else 0.0,
    )


def calibration(items: list[HeldOutText], positive: str, bins: int = 10) -> list[CalibrationBin]:
    """Reliability: in each probability bin, the mean predicted probability of `positive`
    against the share of texts that really are `positive` (empty bins left out)."""
    probability = np.array([item.probabilities.get(positive, 0.0) for item in items])
    truth = np.array([item.true == positive for item in items], dtype=float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    return [
        CalibrationBin(
            low=b / bins,
            high=(b + 1) / bins,
            mean_predicted=round(float(probability[which == b].mean()), 6),
            observed=round(float(truth[which == b].mean()), 6),
            count=int(np.sum(which == b)),
        )
        for b in range(bins)
        if np.any(which == b)
    ]
