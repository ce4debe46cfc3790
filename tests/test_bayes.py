"""Bayesian search on Optuna's real samplers and pruners, against a real study file.

The searcher is driven here by a known scoring function instead of fits (fast, and the
best candidate is known); the runs with real fits are in the CLI and background tests.
"""

from __future__ import annotations

import math

import pytest

from lstm_core.domain.errors import UserError
from lstm_core.domain.ranges import Range, parse_range
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.search.bayes import BayesianSearcher, load_study

RANGES = {
    "learning_rate": Range(1e-4, 1e-1, log=True),
    "units": Range(4, 64, log=True),
    "dropout_rate": Range(0.0, 0.5),
}
SEARCHES = ["tpe", "gp"]


def spec_for(search: str, budget: int = 8, **changes) -> ExperimentSpec:
    settings = {"ranges": RANGES, "grid": {"optimizer": ["adam", "sgd"]}, "n_iter": budget}
    return ExperimentSpec("toy", search=search, **{**settings, **changes}).validated()


def score(config: dict) -> float:
    """Best near a learning rate of 0.01 with adam and many units (a known optimum)."""
    distance = abs(math.log10(config["learning_rate"]) + 2)
    return 1 - 0.2 * distance + 0.1 * (config["optimizer"] == "adam") + config["units"] / 1000


def run_study(searcher: BayesianSearcher, stop_after_batches: int | None = None) -> None:
    """The run loop's shape: ask a batch, score all of it, tell all of it."""
    batches = 0
    while batch := searcher.ask():
        if stop_after_batches is not None and batches == stop_after_batches:
            return  # killed with this batch asked and never told
        for candidate in batch:
            searcher.tell(candidate, score(candidate.config))
        batches += 1


def proposals(study) -> list[tuple[int, str, dict]]:
    return [(t.number, t.state.name, t.params) for t in study.get_trials()]


@pytest.mark.parametrize("search", SEARCHES)
def test_candidates_lie_inside_the_ranges_and_the_budget_is_kept(tmp_path, search):
    spec = spec_for(search, budget=12)
    searcher = BayesianSearcher(spec, tmp_path / "study.db", "run", batch=2)
    run_study(searcher)
    trials = load_study(tmp_path / "study.db", "run").get_trials()
    assert len(trials) == 12 and all(t.state.name == "COMPLETE" for t in trials)
    for config in searcher.configs.values():
        assert 1e-4 <= config["learning_rate"] <= 1e-1
        assert 4 <= config["units"] <= 64 and isinstance(config["units"], int)
        assert 0.0 <= config["dropout_rate"] <= 0.5
        assert config["optimizer"] in ("adam", "sgd")
        assert config["epochs"] == spec.fixed()["epochs"], "fixed values travel with each"
    best = searcher.best()
    assert score(best.config) == max(score(c) for c in searcher.configs.values())


@pytest.mark.parametrize("search", SEARCHES)
def test_the_same_seed_proposes_the_same_candidates_even_across_a_kill(tmp_path, search):
    spec = spec_for(search)
    whole = BayesianSearcher(spec, tmp_path / "whole.db", "run", batch=2)
    run_study(whole)
    cut = BayesianSearcher(spec, tmp_path / "cut.db", "run", batch=2)
    run_study(cut, stop_after_batches=2)  # batch 3 asked, then the process is gone
    resumed = BayesianSearcher(spec, tmp_path / "cut.db", "run", batch=2)
    assert sorted(resumed.live) == [4, 5], "the killed batch is proposed again, as it was"
    run_study(resumed)
    assert proposals(resumed.study) == proposals(whole.study)
    other = BayesianSearcher(spec_for(search, seed=7), tmp_path / "other.db", "run", batch=2)
    run_study(other)
    assert proposals(other.study) != proposals(whole.study), "the seed matters"


def test_a_time_budget_ends_the_search_and_carries_over_a_resume(tmp_path):
    now = [0.0]
    spec = spec_for("tpe", budget=50, time_budget_s=30)
    searcher = BayesianSearcher(spec, tmp_path / "s.db", "run", batch=1, clock=lambda: now[0])
    while batch := searcher.ask():
        now[0] += 10.0  # every candidate takes ten seconds
        searcher.tell(batch[0], score(batch[0].config))
    assert len(searcher.study.get_trials()) == 3
    again = BayesianSearcher(spec, tmp_path / "s.db", "run", batch=1, clock=lambda: now[0])
    assert again.ask() == [], "the seconds spent before the resume still count"


def test_the_median_pruner_stops_a_candidate_clearly_behind_and_it_is_never_best(tmp_path):
    spec = spec_for("tpe", prune="median")
    searcher = BayesianSearcher(spec, tmp_path / "s.db", "run", batch=2)
    first = searcher.ask()
    for candidate in first:  # the pruner's start-up candidates: good curves, completed
        for epoch in range(3):
            assert not searcher.report(candidate.number, 0, epoch, -0.5 + 0.1 * epoch)
        searcher.tell(candidate, 0.9)
    behind, ahead = searcher.ask()
    assert not searcher.report(ahead.number, 0, 0, -0.4)
    assert not searcher.report(behind.number, 0, 0, -5.0), "the first epoch is not judged"
    assert not searcher.report(behind.number, 1, 1, -5.0), "only fold 0 is judged"
    assert searcher.report(behind.number, 0, 1, -5.0), "far behind after two epochs"
    assert behind.number in searcher.pruned
    assert not searcher.report(behind.number, 0, 2, -5.0), "pruned once"
    searcher.tell(ahead, 0.5)
    states = {t.number: t.state.name for t in searcher.study.get_trials()}
    assert states[behind.number] == "PRUNED" and states[ahead.number] == "COMPLETE"
    assert searcher.best().number != behind.number
    reopened = BayesianSearcher(spec, tmp_path / "s.db", "run", batch=2)
    assert behind.number in reopened.pruned and not reopened.live, "kept across a resume"
    assert [c.number for c in reopened.ask()] == [4, 5], "a pruned candidate counts in the budget"


def test_load_study_is_none_for_a_run_without_one(tmp_path):
    assert load_study(tmp_path / "study.db", "run") is None
    assert not (tmp_path / "study.db").exists(), "reading never creates a database"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"search": "grid"}, "--range works only with a Bayesian search"),
        ({"search": "grid", "time_budget_s": 60}, "--range and --time-budget work only with"),
        ({"prune": "median", "params": {"epochs": 2}}, "Pruning stops candidates between epochs"),
        ({"ranges": {"optimizer": [1, 2]}}, "optimizer takes values from a list"),
        ({"ranges": {"units": [64, 4]}}, "The range of units goes from 64 to 4"),
        ({"ranges": {"dropout_rate": [0.0, 0.5, True]}}, "A log range of dropout_rate"),
        ({"ranges": {"units": [0, 2000]}}, "units = 0 is out of range"),
        ({"grid": {"units": [4, 8]}}, "units has both a range and a list"),
        (
            {"prune": "median", "params": {"validation_split": 0.0}},
            "Pruning compares validation scores",
        ),
        ({"time_budget_s": -1}, "time budget -1 s is not possible"),
    ],
)
def test_impossible_bayesian_designs_are_one_clear_sentence(changes, message):
    settings = {"search": "tpe", "ranges": {"units": [4, 64]}, **changes}
    with pytest.raises(UserError, match=message):
        ExperimentSpec("toy", **settings).validated()


def test_ranges_parse_from_the_command_line_and_survive_the_store():
    assert parse_range("learning_rate=1e-4:0.1:log") == ("learning_rate", Range(1e-4, 0.1, True))
    assert parse_range(" units = 8:128") == ("units", Range(8, 128))
    for text in ("units=8", "units=8:16:lin", "=1:2"):
        with pytest.raises(UserError, match="NAME=LOW:HIGH|only option after HIGH"):
            parse_range(text)
    spec = spec_for("tpe", time_budget_s=60, prune="hyperband")
    assert ExperimentSpec.from_dict(spec.to_dict()) == spec


def test_estimates_count_the_budget_and_take_a_range_at_its_middle():
    from lstm_core.insight.cost_model import estimate_run_seconds

    spec = spec_for("tpe", budget=10, grid={})
    assert len(spec.typical_candidates()) == 10
    middle = spec.candidates()[0]
    assert middle["units"] == 16 and middle["learning_rate"] == pytest.approx(10**-2.5)
    double = spec_for("tpe", budget=20, grid={})
    assert estimate_run_seconds(double, 5000, 30) > 1.5 * estimate_run_seconds(spec, 5000, 30)


def test_hyperband_stops_candidates_behind_their_bracket_after_the_first_rung(tmp_path):
    """Each candidate here learns worse than the one before: in a bracket that judges
    after one epoch, every candidate after its bracket's first is behind and stops."""
    spec = spec_for("tpe", budget=8, prune="hyperband")
    searcher = BayesianSearcher(spec, tmp_path / "s.db", "run", batch=1)
    while batch := searcher.ask():
        (candidate,) = batch
        quality = -candidate.number
        for epoch in range(3):
            if searcher.report(candidate.number, 0, epoch, quality - 1 / (epoch + 1)):
                break
        else:
            searcher.tell(candidate, 0.9 + quality / 100)
    states = [t.state.name for t in searcher.study.get_trials()]
    assert len(states) == 8 and "PRUNED" in states, states
    assert searcher.best().number == 0
