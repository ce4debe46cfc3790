"""Searchers propose candidates and learn from scores; the run's loop does the fitting."""

from __future__ import annotations

from lstm_core.domain.spec import ExperimentSpec
from lstm_core.search.searcher import Candidate
from lstm_core.search.searchers import make_searcher


def spec(**changes) -> ExperimentSpec:
    settings = {"grid": {"arch": ["lstm", "gru"], "units": [4, 8]}, "cv": 2, **changes}
    return ExperimentSpec("d", **settings).validated()


def test_grid_asks_every_point_once_in_the_designers_order():
    searcher = make_searcher(spec())
    batch = searcher.ask()
    assert [c.config for c in batch] == spec().candidates()
    assert [c.number for c in batch] == [0, 1, 2, 3]
    assert {(c.config["arch"], c.config["units"]) for c in batch} == {
        ("lstm", 4), ("lstm", 8), ("gru", 4), ("gru", 8)
    }  # fmt: skip
    for candidate, score in zip(batch, [0.5, 0.9, 0.9, 0.1], strict=True):
        searcher.tell(candidate, score)
    assert searcher.ask() == []
    assert searcher.best().number == 1, "a tie goes to the candidate tried first"


def test_random_search_draws_the_same_points_for_the_same_seed():
    first = [c.config for c in make_searcher(spec(search="random", n_iter=3)).ask()]
    again = [c.config for c in make_searcher(spec(search="random", n_iter=3)).ask()]
    other = [c.config for c in make_searcher(spec(search="random", n_iter=3, seed=7)).ask()]
    assert first == again and len(first) == 3
    assert len({str(c) for c in first}) == 3, "no point drawn twice"
    assert other != first


def test_halving_keeps_the_best_half_with_twice_the_rows_each_round():
    design = spec(search="halving", grid={"units": [2, 4, 8, 16, 32]})
    searcher = make_searcher(design)
    rounds = []
    while batch := searcher.ask():
        rounds.append(batch)
        for candidate in batch:  # more units score better here
            searcher.tell(candidate, candidate.config["units"] / 100)
    assert [len(batch) for batch in rounds] == design.rounds() == [5, 3, 2]
    assert [c.config["units"] for c in rounds[1]] == [8, 16, 32]
    assert [c.config["units"] for c in rounds[2]] == [16, 32]
    assert [batch[0].rows_share for batch in rounds] == [0.25, 0.5, 1.0]
    assert {c.round for c in rounds[2]} == {2}
    best = searcher.best()
    assert (best.config["units"], best.rows_share) == (32, 1.0)


def test_halving_over_epochs_trains_early_rounds_for_fewer_epochs():
    design = spec(search="halving", halving_resource="epochs", params={"epochs": 8})
    searcher = make_searcher(design)
    first = searcher.ask()
    assert {c.config["epochs"] for c in first} == {4} and {c.rows_share for c in first} == {1.0}
    for candidate in first:
        searcher.tell(candidate, candidate.number)
    second = searcher.ask()
    assert {c.config["epochs"] for c in second} == {8}
    for candidate in second:
        searcher.tell(candidate, candidate.number)
    assert searcher.ask() == []
    assert searcher.best().config["epochs"] == 8


def test_a_candidate_is_plain_data():
    candidate = Candidate(3, {"units": 4}, round=1, rows_share=0.5)
    assert candidate == Candidate(3, {"units": 4}, round=1, rows_share=0.5)
