"""When the TF-IDF baseline wins, the run says so and suggests only what the run did not try."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from lstm_core.api import Engine, ExperimentSpec, RunStatus
from tests.conftest import TINY, toy_texts


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny run on toy texts and its result."""
    engine = Engine(tmp_path_factory.mktemp("ws"))
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "toy.csv")
    run = engine.train(ExperimentSpec(dataset.id, params=TINY, cv=0, test_size=0.25))
    assert run.status == RunStatus.COMPLETED, run.error
    return engine, engine.result(run.id)


def scored(result, accuracy: float, macro_f1: float):
    return replace(result, test=replace(result.test, accuracy=accuracy, macro_f1=macro_f1))


def test_a_run_that_beats_the_baseline_gets_no_advice(finished):
    engine, result = finished
    base = result.baseline
    assert engine.baseline_advice(scored(result, base.accuracy, base.macro_f1)) == []
    assert engine.baseline_advice(scored(result, 1.0, 1.0)) == []


def test_a_beaten_run_hears_where_and_what_it_has_not_tried(finished):
    engine, result = finished
    base = result.baseline
    head, *tips, closing = engine.baseline_advice(
        scored(result, base.accuracy - 0.1, base.macro_f1)
    )
    assert head.endswith("on accuracy.")
    assert len(tips) == 1 and "bidirectional" in tips[0]
    assert "next step" in closing

    tried = replace(
        result, best_config={**result.best_config, "arch": "bilstm", "embedding_dropout": 0.3}
    )
    head, *tips = engine.baseline_advice(scored(tried, base.accuracy - 0.1, base.macro_f1 - 0.1))
    assert "accuracy and macro-F1" in head
    assert len(tips) == 1 and "next step" in tips[0], "it suggested what the run already did"
