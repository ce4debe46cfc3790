"""Error analysis from kept held-out predictions, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from lstm_core.domain.analysis import TestPrediction as Prediction
from lstm_core.insight.error_analysis import at_threshold, by_length, calibration, held_out


def predictions(n: int = 200, seed: int = 0) -> list[Prediction]:
    rng = np.random.default_rng(seed)
    items = []
    for row in range(n):
        true = "spam" if rng.random() < 0.3 else "ham"
        p_spam = float(np.clip(rng.normal(0.7 if true == "spam" else 0.3, 0.2), 0, 1))
        words = " ".join(["word"] * int(rng.integers(1, 60)))
        items.append(
            Prediction(
                row,
                f"{words} {row}",
                true,
                "spam" if p_spam >= 0.5 else "ham",
                {"spam": p_spam, "ham": 1 - p_spam},
                "spam" if rng.random() < 0.5 else "ham",
            )  # fmt: skip
        )
    return items


def test_threshold_metrics_match_scikit_learn_at_several_thresholds():
    items = held_out(predictions(), [])
    truth = [item.true for item in items]
    for threshold in (0.05, 0.3, 0.5, 0.77, 0.95):
        decided = ["spam" if item.probabilities["spam"] >= threshold else "ham" for item in items]
        metrics = at_threshold(items, "spam", "ham", threshold)
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, decided, labels=["spam"], zero_division=0
        )
        assert metrics.precision == pytest.approx(precision[0], abs=1e-6)
        assert metrics.recall == pytest.approx(recall[0], abs=1e-6)
        assert metrics.f1 == pytest.approx(f1[0], abs=1e-6)
        expected = confusion_matrix(truth, decided, labels=["spam", "ham"]).tolist()
        assert metrics.confusion_matrix == expected


def test_calibration_bins_hold_the_mean_prediction_and_the_observed_share():
    items = held_out(predictions(), [])
    bins = calibration(items, "spam", bins=4)
    assert sum(b.count for b in bins) == len(items)
    for b in bins:
        inside = [i for i in items if b.low <= i.probabilities["spam"] < b.high or
                  (b.high == 1.0 and i.probabilities["spam"] == 1.0)]  # fmt: skip
        assert b.count == len(inside)
        assert b.mean_predicted == pytest.approx(
            np.mean([i.probabilities["spam"] for i in inside]), abs=1e-6
        )
        assert b.observed == pytest.approx(np.mean([i.true == "spam" for i in inside]), abs=1e-6)


def test_length_slices_score_the_model_and_the_baseline_like_scikit_learn():
    items = held_out(predictions(), [])
    slices = by_length(items)
    assert sum(s.texts for s in slices) == len(items)
    assert [s.bucket for s in slices][0] == "1-5 words"
    for s in slices:
        part = [i for i in items if _bucket(i.tokens) == s.bucket]
        truth = [i.true for i in part]
        labels = sorted({*truth, *(i.predicted for i in part)})
        expected = f1_score(truth, [i.predicted for i in part], labels=labels, average="macro",
                            zero_division=0)  # fmt: skip
        assert s.macro_f1 == pytest.approx(expected, abs=1e-4)
        labels = sorted({*truth, *(i.baseline_predicted for i in part)})
        baseline = f1_score(truth, [i.baseline_predicted for i in part], labels=labels,
                            average="macro", zero_division=0)  # fmt: skip
        assert s.baseline_macro_f1 == pytest.approx(baseline, abs=1e-4)


def _bucket(tokens: int) -> str:
    from lstm_core.insight.error_analysis import length_label

    return length_label(tokens)


def test_held_out_texts_carry_their_loss_and_whether_training_saw_them():
    kept = predictions(10)
    items = held_out(kept, [kept[3].text, "unrelated"])
    assert [i.in_training for i in items] == [i == 3 for i in range(10)]
    for item in items:
        assert item.loss == pytest.approx(
            -np.log(max(item.probabilities[item.true], 1e-7)), abs=1e-6
        )
        assert item.tokens == len(item.text.split())
