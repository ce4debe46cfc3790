"""Hyperparameter values as a person types them: parsed, validated, or refused clearly."""

from __future__ import annotations

import pytest

from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import parse_assignment
from lstm_core.domain.spec import ExperimentSpec


def test_grid_values_are_parsed_to_canonical_types():
    assert parse_assignment("units=16, 32") == ("units", [16, 32])
    assert parse_assignment("optimizer=Adam,SGD") == ("optimizer", ["adam", "sgd"])
    assert parse_assignment("sequence_length=auto,40") == ("sequence_length", ["auto", 40])
    assert parse_assignment("class_weight=none,balanced") == ("class_weight", [None, "balanced"])
    assert parse_assignment("dropout_rate=0.0,0.5,0.5") == ("dropout_rate", [0.0, 0.5])


@pytest.mark.parametrize(
    "text, message",
    [
        ("units=abc", "'abc' is not a valid units; expected a whole number from 1 to 1024."),
        ("units=0", "units = 0 is out of range; expected from 1 to 1024."),
        ("layers=4", "layers = 4 is out of range; expected from 1 to 3."),
        ("optimizer=lion", "'lion' is not a valid optimizer; choose from sgd, rmsprop"),
        ("init_mode=ones", "'ones' is not a valid init_mode; choose from uniform"),
        ("activation=gelu", "'gelu' is not a valid activation; choose from softmax"),
        ("dropout_rate=0.95", "dropout_rate = 0.95 is out of range"),
        (
            "arch=transformer",
            "'transformer' is not a valid arch; choose from rnn, lstm, gru, bilstm, bigru, cnn.",
        ),
        ("unit=3", "Unknown hyperparameter 'unit'"),
        ("units", "'units' is not NAME=VALUE"),
        ("units=", "No values given for units"),
    ],
)
def test_bad_values_are_refused_with_what_was_expected(text, message):
    with pytest.raises(UserError) as error:
        parse_assignment(text)
    assert str(error.value).startswith(message)


def test_single_value_grid_entries_become_fixed_parameters():
    spec = ExperimentSpec("d", grid={"arch": ["lstm", "gru"], "units": [8]}, cv=2).validated()
    assert spec.grid == {"arch": ["lstm", "gru"]}
    assert spec.params == {"units": 8}
    assert spec.n_candidates() == 2
    assert spec.n_fits() == 2 * 2 + 1


def test_the_dense_activation_is_searched_only_where_there_is_a_dense_layer():
    activations = ["relu", "tanh"]
    without = ExperimentSpec("d", grid={"activation": activations, "units": [4, 8]}).validated()
    assert without.n_candidates() == 2, "0 dense units: every activation is the same model"
    assert {c["activation"] for c in without.candidates()} == {None}
    mixed = ExperimentSpec(
        "d", grid={"activation": activations, "dense_units": [0, 16]}
    ).validated()
    pairs = [(c["dense_units"], c["activation"]) for c in mixed.candidates()]
    assert pairs == [(0, None), (16, "relu"), (16, "tanh")]
    assert mixed.n_candidates() == 3
    sampled = ExperimentSpec(
        "d", grid={"activation": activations, "dense_units": [0, 16]}, search="random", n_iter=9
    ).validated()
    assert sampled.n_candidates() == 3
    from lstm_core.search.searchers import make_searcher

    drawn = [
        (c.config["dense_units"], c.config["activation"]) for c in make_searcher(sampled).ask()
    ]
    assert sorted(drawn, key=str) == sorted(pairs, key=str)


def test_random_search_is_capped_by_the_grid_size():
    spec = ExperimentSpec(
        "d", grid={"units": [4, 8, 16]}, search="random", n_iter=10, cv=3
    ).validated()
    assert spec.n_candidates() == 3


def test_default_parallelism_is_one_fit_per_core_but_no_more_than_the_fits(monkeypatch):
    monkeypatch.setattr("lstm_core.domain.spec.usable_cores", lambda: 8)
    monkeypatch.setattr("lstm_core.domain.spec.available_memory", lambda: None)
    assert ExperimentSpec("d", grid={"units": [4, 8]}, cv=2).validated().effective_n_jobs() == 4
    assert ExperimentSpec("d", cv=0).validated().effective_n_jobs() == 1
    assert ExperimentSpec("d", cv=5, n_jobs=3).validated().effective_n_jobs() == 3


def test_spec_round_trips_through_json():
    import json

    spec = ExperimentSpec("d", grid={"units": [4, 8]}, params={"epochs": 2}).validated()
    assert ExperimentSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cv": 1}, "cv = 1 is not possible"),
        ({"search": "bayes"}, "'bayes' is not a search strategy"),
        ({"test_size": 0.9}, "test size 0.9 is out of range"),
        ({"scoring": "auc"}, "'auc' is not a score"),
    ],
)
def test_bad_search_settings(changes, message):
    with pytest.raises(UserError, match=message):
        ExperimentSpec("d", **changes).validated()


def test_halving_rounds_and_fits_are_known_before_the_first_fit():
    spec = ExperimentSpec("d", grid={"units": [2, 4, 8, 16, 32]}, search="halving", cv=2)
    spec = spec.validated()
    assert spec.rounds() == [5, 3, 2]
    assert spec.n_fits() == (5 + 3 + 2) * 2 + 1
    assert ExperimentSpec("d", grid={"units": [2, 4]}, search="halving").rounds() == [2]


def test_a_spec_of_another_version_still_loads():
    stored = {**ExperimentSpec("d", cv=2).to_dict(), "from_the_future": 1}
    del stored["halving_resource"]
    spec = ExperimentSpec.from_dict(stored)
    assert (spec.cv, spec.halving_resource) == (2, "samples")


@pytest.mark.parametrize(
    "name", ["learning_rate", "dropout_rate", "recurrent_dropout", "validation_split"]
)
def test_nan_is_refused_like_infinity_wherever_a_value_is_given(name):
    """A NaN passes every range comparison, so it used to make a run that failed later."""
    expected = f"'nan' is not a valid {name}; expected a number"
    with pytest.raises(UserError, match=expected):
        parse_assignment(f"{name}=nan")
    with pytest.raises(UserError, match=expected):
        ExperimentSpec("d", params={name: float("nan")}).validated()
    with pytest.raises(UserError, match=expected):
        ExperimentSpec("d", grid={name: [float("nan"), 0.1]}).validated()
    with pytest.raises(UserError, match=expected):
        ExperimentSpec("d", search="tpe", ranges={name: (float("nan"), 0.1)}).validated()


@pytest.mark.parametrize("field", ["n_iter", "n_jobs"])
def test_counts_that_are_not_whole_numbers_are_refused(field):
    with pytest.raises(UserError, match=f"{field} = nan is not possible"):
        ExperimentSpec("d", **{field: float("nan")}).validated()


def test_parallel_fits_are_capped_by_cores_fits_and_memory():
    from lstm_core.domain.spec import FIT_PROCESS_BYTES, parallel_fits

    plenty = 64 * FIT_PROCESS_BYTES
    assert parallel_fits(0, fits=8, cores=4, memory=plenty) == 4
    assert parallel_fits(100_000, fits=2, cores=16, memory=plenty) == 2
    assert parallel_fits(8, fits=20, cores=4, memory=plenty) == 4
    assert parallel_fits(8, fits=20, cores=16, memory=3 * FIT_PROCESS_BYTES) == 3
    assert parallel_fits(3, fits=20, cores=16, memory=None) == 3, "memory unknown: no cap"
    assert parallel_fits(4, fits=20, cores=16, memory=0) == 1, "always at least one"


def test_more_parallel_fits_than_can_run_at_once_are_capped_and_said(monkeypatch):
    monkeypatch.setattr("lstm_core.domain.spec.usable_cores", lambda: 8)
    monkeypatch.setattr("lstm_core.domain.spec.available_memory", lambda: None)
    two_fits = ExperimentSpec("d", cv=2, n_jobs=8).validated()
    assert two_fits.effective_n_jobs() == 2
    assert two_fits.parallel_fits_note() == (
        "8 parallel fits were asked for, but 2 run at once: the search has 2 fit(s) at a time."
    )
    huge = ExperimentSpec("d", grid={"units": list(range(1, 21))}, n_jobs=100_000).validated()
    assert huge.effective_n_jobs() == 8
    assert "this machine has 8 core(s)" in huge.parallel_fits_note()
    assert ExperimentSpec("d", cv=2, n_jobs=2).validated().parallel_fits_note() == ""
    assert ExperimentSpec("d", cv=5).validated().parallel_fits_note() == "", "auto: not asked"
    from lstm_core.domain.spec import FIT_PROCESS_BYTES

    monkeypatch.setattr("lstm_core.domain.spec.available_memory", lambda: 3 * FIT_PROCESS_BYTES)
    auto = ExperimentSpec("d", cv=5).validated()
    assert auto.effective_n_jobs() == 3
    assert "free memory holds 3 fit process(es) of about 900 MB" in auto.parallel_fits_note()
    from lstm_core.jobs.standby import shape_of

    assert shape_of(two_fits)[0] == 2, "a warm worker's pool gets the same count"


def test_available_memory_is_read_from_proc_meminfo(tmp_path, monkeypatch):
    from lstm_core.domain import spec

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  16000000 kB\nMemAvailable:   2048 kB\n")
    monkeypatch.setattr(spec, "MEMINFO", meminfo)
    assert spec.available_memory() == 2048 * 1024
    monkeypatch.setattr(spec, "MEMINFO", tmp_path / "absent")
    assert spec.available_memory() is None


@pytest.mark.parametrize(
    "search, given, message",
    [
        ("grid", {"n_iter"}, "--n-iter / --budget applies only to random, tpe and gp search"),
        ("halving", {"n_iter"}, "--n-iter / --budget applies only to random, tpe and gp search"),
        ("grid", {"halving_resource"}, "--halving-resource applies only to halving search"),
        ("tpe", {"halving_resource"}, "--halving-resource applies only to halving search"),
    ],
)
def test_search_settings_given_for_a_search_that_ignores_them_are_refused(search, given, message):
    with pytest.raises(UserError, match=message):
        ExperimentSpec("d", search=search).validated(given=given)


def test_search_settings_given_where_they_apply_are_accepted():
    for search in ("random", "tpe", "gp"):
        assert ExperimentSpec("d", search=search, n_iter=5).validated(given={"n_iter"}).n_iter == 5
    halving = ExperimentSpec("d", search="halving", halving_resource="epochs")
    assert halving.validated(given={"halving_resource"}).halving_resource == "epochs"
    assert ExperimentSpec("d", n_iter=5).validated().n_iter == 5, "nothing said given"
