"""Figures a page shows, each from one engine function, so two places cannot disagree:
how a value is shown, how fits are counted, who wins against the baseline, why a run waits.
"""

from __future__ import annotations

import pytest
from conftest import tiny_spec

from lstm_core.api import Engine, RunStatus, show_value
from lstm_core.domain.entities import Evaluation, Progress, RunResult
from lstm_core.execution.training import submit_run


@pytest.mark.parametrize(
    "name, value, shown",
    [
        ("learning_rate", None, "default"),
        ("learning_rate", 0.0022231757593178317, "0.002223"),
        ("arch", "bilstm", "BiLSTM"),
        ("lowercase", False, "no"),
        ("units", 32, "32"),
    ],
)
def test_a_value_is_shown_one_way_never_as_none_or_nan(name, value, shown):
    assert show_value(name, value) == shown


def evaluation(accuracy: float, macro_f1: float) -> Evaluation:
    return Evaluation(accuracy, macro_f1, ["a", "b"], {}, [[1, 0], [0, 1]], 2)


def result(test: Evaluation, baseline: Evaluation) -> RunResult:
    return RunResult({}, {"arch": "lstm"}, 0.5, "f1_macro", test, baseline, 8, 2, 10, 12, 50, 1.0)


def test_the_summary_says_on_which_measure_the_baseline_wins():
    """0.688 vs 0.672 accuracy once went unsaid because only macro-F1 was compared."""
    assert result(evaluation(0.672, 0.592), evaluation(0.688, 0.586)).baseline_wins() == [
        "accuracy"
    ]
    assert result(evaluation(0.6, 0.5), evaluation(0.7, 0.6)).baseline_wins() == [
        "accuracy",
        "macro-F1",
    ]
    assert result(evaluation(0.9, 0.9), evaluation(0.902, 0.9)).baseline_wins() == []


def test_fits_are_counted_one_way_with_pruned_candidates_said():
    progress = Progress("r", RunStatus.COMPLETED, None, 13, 13, 30, 1.0, 240.0, None, None, None)
    assert progress.fits_summary() == "13 of 13 fits done"
    pruned = Progress(
        "r", RunStatus.COMPLETED, None, 13, 13, 30, 1.0, 240.0, None, None, None, None, 2
    )
    assert pruned.fits_summary() == "13 of 13 fits done (2 candidate(s) stopped early by pruning)"


def test_a_queued_run_says_what_it_waits_behind(toy_dataset):
    workspace, dataset_id = toy_dataset
    first = submit_run(workspace, tiny_spec(dataset_id))
    second = submit_run(workspace, tiny_spec(dataset_id))
    third = submit_run(workspace, tiny_spec(dataset_id))
    engine = Engine(workspace.root)
    assert "a worker is starting" in engine.queue_note(first)
    assert workspace.store.claim_next(1).id == first
    note = engine.queue_note(third)
    assert f"Queued behind {first} (training) and 1 queued run(s) before it" in note
    assert "at most 1 run(s) train at once" in note
    assert "queued run(s) before it" not in engine.queue_note(second)


def test_the_embedding_note_gives_the_rows_the_model_has():
    """'(8,545 …) rounded up to a power of two' beside a 10,000-row table read as wrong."""
    from lstm_core.api import embedding_rows_note
    from lstm_core.models.model_zoo import embedding_rows

    for words, cap in ((8_545, 10_000), (446, 10_000), (1_024, 10_000), (300, 256)):
        note = embedding_rows_note(words, cap)
        assert note.startswith(f"The embedding has {embedding_rows(words, cap):,} rows")
        assert ("held to max_tokens" in note) == (embedding_rows(words, cap) == cap < 2 * words)


def test_two_candidates_never_read_alike():
    """'candidate 1 · LSTM u10' and 'candidate 3 · LSTM u10' once named two TPE candidates
    that differed only in their learning rate."""
    from lstm_core.api import Trial, TrialStatus, candidate_labels

    def fit(candidate, fold, **params):
        config = {"arch": "lstm", "units": 10, "learning_rate": None, **params}
        return Trial(0, "r", candidate, 0, fold, config, 40, 1, TrialStatus.COMPLETED, 0.0)

    trials = [
        fit(0, 0, learning_rate=0.0079),
        fit(0, 1, learning_rate=0.0079),
        fit(2, 0, learning_rate=0.0423),
        fit(None, None, learning_rate=0.0079),
    ]
    labels = candidate_labels(trials)
    assert labels[(0, 0)] == "candidate 1 · LSTM, learning rate 0.0079"
    assert labels[(2, 0)] == "candidate 3 · LSTM, learning rate 0.0423"
    assert labels[None] == "refit of the best · LSTM, learning rate 0.0079"
    grid = candidate_labels([fit(0, 0, arch="gru"), fit(1, 0, units=32)])
    assert set(grid.values()) == {"candidate 1 · GRU, units 10", "candidate 2 · LSTM, units 32"}


def test_a_logged_epoch_moves_the_progress_bar_before_the_fits_first_report(toy_dataset):
    """A fit reports its batches now and then; an epoch that landed first once left the bar
    at 0 beside it."""
    import time

    from lstm_core.domain.entities import Epoch

    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, epochs=4))
    store = workspace.store
    assert store.claim_next(1).id == run_id
    trial_id = store.start_trial(
        run_id, candidate=0, round=0, fold=0, params={"epochs": 4}, n_train=40,
        epochs_planned=4, pid=None, worker="here",
    )  # fmt: skip
    engine = Engine(workspace.root)
    before = engine.progress(run_id)
    store.log_epochs([Epoch(trial_id, 0, loss=0.7, logged_at=time.time())])
    after = engine.progress(run_id)
    assert before.fraction == 0 and after.epochs_logged == 1
    assert after.fraction == pytest.approx(0.25 / after.trials_total, abs=1e-4)
    store.set_trial_progress(trial_id, 0.6)  # a later report further on counts as it is
    assert engine.progress(run_id).fraction == pytest.approx(0.6 / after.trials_total, abs=1e-4)
