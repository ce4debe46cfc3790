"""The pre-launch time estimate moves the way the measured costs do, learns them from the
workspace's earlier runs, and says what it rests on."""

from __future__ import annotations

import time

import pytest
from conftest import tiny_spec

from lstm_core.api import Engine
from lstm_core.domain.entities import Epoch, Evaluation, RunResult, TrialStatus
from lstm_core.domain.processes import WorkerIdentity
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.insight import estimates
from lstm_core.insight.cost_model import (
    KEPT_FIRST_EPOCH_S,
    TRACE_SECONDS_PER_FIT,
    estimate_run_seconds,
)

FIRST, LATER, FIXED, START, OUTSIDE = 2.0, 0.5, 1.0, 8.0, 2.0  # seconds of a recorded run
DESIGN = {"params": {"epochs": 3, "units": 16}, "cv": 2, "n_jobs": 1}


def estimate(**params) -> float:
    spec = ExperimentSpec("d", params=params, grid={"units": [16, 32]}, cv=2, n_jobs=1)
    return estimate_run_seconds(spec.validated(), n_rows=5572, auto_length=34)


def test_estimate_follows_the_settings_that_cost_time():
    base = estimate()
    assert estimate(length_buckets=False) > base
    assert estimate(recurrent_dropout=0.2) > 1.5 * base
    assert estimate(epochs=6) > 1.5 * base
    padded = {"length_buckets": False}
    assert estimate(**padded, sequence_length=190) > 3 * estimate(**padded, sequence_length=34)
    assert estimate(**padded, sequence_length=190) > 3 * estimate(sequence_length=190)


def test_fits_of_one_architecture_pay_for_tracing_once_per_process():
    def seconds(grid, n_jobs):
        spec = ExperimentSpec("d", grid=grid, cv=2, n_jobs=n_jobs, params={"epochs": 1})
        return estimate_run_seconds(spec.validated(), n_rows=200, auto_length=10)

    same_model = {"batch_size": [16, 32, 64]}
    new_models = {"units": [16, 17, 18]}
    # one trace for the whole grid against one per architecture (folds reuse it)
    extra = seconds(new_models, 1) - seconds(same_model, 1)
    assert extra == pytest.approx(2 * (TRACE_SECONDS_PER_FIT - KEPT_FIRST_EPOCH_S), abs=0.5)


class Clock:
    """`time.time` for the store while a run is written: moved by hand."""

    def __init__(self):
        self.now = time.time() - 3600

    def __call__(self) -> float:
        return self.now


def result(launch_load: float | None) -> RunResult:
    scores = Evaluation(0.9, 0.9, ["ham", "spam"], {}, [[1, 0], [0, 1]], 2)
    return RunResult(
        {},
        {"arch": "lstm"},
        0.9,
        "f1_macro",
        scores,
        scores,
        45,
        15,
        8,
        9,
        30,
        1.0,
        launch_load=launch_load,
    )


def toy_frame(engine, dataset_id):
    """The toy dataset's rows, to freeze in another workspace."""
    import pandas as pd

    from lstm_core.data.datasets import load_dataset

    data = load_dataset(engine.workspace, dataset_id)
    return pd.DataFrame({"text": data.texts, "label": data.labels}), "text", "label"


def recorded_run(workspace, dataset_id, clock, slower=1.0, launch_load=None, **changes) -> float:
    """A completed run written through the store as a worker writes it, every part taking
    `slower` times the seconds above (its fit process's first fit also pays START); returns
    its wall seconds."""
    spec = ExperimentSpec(dataset_id, **{**DESIGN, **changes}).validated()
    store = workspace.store
    clock.now += 60
    started = clock.now
    run_id = store.create_run(spec, spec.n_fits(), running=WorkerIdentity.current())
    candidates = spec.candidates()
    fits = [(n, fold, c) for n, c in enumerate(candidates) for fold in range(spec.n_splits())]
    for number, (candidate, fold, config) in enumerate([*fits, (0, None, candidates[0])]):
        trial = store.start_trial(
            run_id,
            candidate=candidate,
            round=0,
            fold=fold,
            params=config,
            n_train=30 if fold is not None else 45,
            epochs_planned=config["epochs"],
            pid=4242,
            worker="here",
        )
        seconds = [FIRST * slower] + [LATER * slower] * (config["epochs"] - 1)
        store.log_epochs([Epoch(trial, i, seconds=s) for i, s in enumerate(seconds)])
        clock.now += sum(seconds) + (FIXED + (START if number == 0 else 0)) * slower
        store.finish_trial(trial, TrialStatus.COMPLETED, score=0.9)
    clock.now += OUTSIDE * slower
    store.complete_run(run_id, result(launch_load))
    return clock.now - started


@pytest.fixture
def history(toy_dataset, monkeypatch):
    """A workspace to write runs into, on 2 cores with a steady load and a warm worker
    waiting."""
    workspace, dataset_id = toy_dataset
    monkeypatch.setattr(estimates, "usable_cores", lambda: 2)
    monkeypatch.setattr(estimates, "runnable_others", lambda: 0.0)
    monkeypatch.setattr("lstm_core.jobs.standby.alive", lambda workspace: True)
    estimates._timings.clear()
    return workspace, dataset_id, Engine(workspace.root)


def write(monkeypatch, clock, *args, **changes) -> float:
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", clock)
        return recorded_run(*args, clock, **changes)


def test_a_workspace_without_runs_says_its_estimate_is_a_rough_guess(history):
    _, dataset_id, engine = history
    guess = engine.estimate(ExperimentSpec(dataset_id, **DESIGN))
    assert guess.runs == 0 and guess.basis.startswith("No finished run here yet: a rough guess")
    assert guess.low < guess.seconds < guess.high


def test_an_estimate_learns_what_this_machine_takes_from_earlier_runs(history, monkeypatch):
    workspace, dataset_id, engine = history
    spec = ExperimentSpec(dataset_id, **DESIGN)
    wall = write(monkeypatch, Clock(), workspace, dataset_id)
    learned = engine.estimate(spec)
    assert learned.runs == 1 and learned.basis == "From 1 earlier run on this data."
    assert learned.low == pytest.approx(learned.seconds / 1.5)
    assert learned.high == pytest.approx(learned.seconds * 1.5)
    # The repeat keeps its models and skips the cold start: a little less than that run.
    assert 0.5 * wall < learned.seconds < wall
    # With no warm worker waiting, a new worker pays the start that run's first fit paid.
    monkeypatch.setattr("lstm_core.jobs.standby.alive", lambda workspace: False)
    assert engine.estimate(spec).seconds == pytest.approx(learned.seconds + START, rel=1e-3)
    monkeypatch.setattr("lstm_core.jobs.standby.alive", lambda workspace: True)

    # The same runs on a machine three times slower: three times the estimate.
    estimates._timings.clear()
    slow_workspace = type(workspace)(workspace.root.parent / "slow")
    slow = Engine(slow_workspace.root)
    slow_id = slow.freeze_dataset(*toy_frame(engine, dataset_id), "toy")[0].id
    write(monkeypatch, Clock(), slow_workspace, slow_id, slower=3.0)
    slower = slow.estimate(ExperimentSpec(slow_id, **DESIGN))
    assert slower.seconds == pytest.approx(3 * learned.seconds, rel=1e-6)


def test_an_estimate_scales_what_it_learned_with_rows_width_epochs_and_architecture(
    history, monkeypatch
):
    workspace, dataset_id, engine = history
    for _ in range(3):
        write(monkeypatch, Clock(), workspace, dataset_id)

    def seconds(n_rows=60, **params):
        spec = ExperimentSpec(dataset_id, **{**DESIGN, "params": {**DESIGN["params"], **params}})
        found = estimates.estimate_run(workspace, spec.validated(), n_rows, 8, lambda d: 8)
        return found.seconds, found.basis, found.high / found.seconds

    base, basis, spread = seconds()
    assert basis == "From 3 earlier runs on this data." and spread == pytest.approx(1.3)
    assert seconds(n_rows=6000)[0] > 1.5 * base
    assert seconds(units=128)[0] > base and seconds(embedding_dim=256)[0] > base
    assert seconds(epochs=9)[0] > 1.5 * base
    gru, basis, spread = seconds(arch="gru")
    assert basis == "From 3 earlier runs on this data; new here: GRU."
    assert spread == pytest.approx(1.3 * 1.25) and gru == pytest.approx(base, rel=0.5)


def test_a_machine_busier_now_than_when_the_runs_started_is_counted(history, monkeypatch):
    workspace, dataset_id, engine = history
    write(monkeypatch, Clock(), workspace, dataset_id, launch_load=0.0)  # started when quiet
    spec = ExperimentSpec(dataset_id, **DESIGN)
    quiet = engine.estimate(spec)
    monkeypatch.setattr(estimates, "runnable_others", lambda: 2.0)  # one burner per core
    busy = engine.estimate(spec)
    assert busy.seconds == pytest.approx(1.5 * quiet.seconds)  # (2 + 1 fit) / 2 cores
    assert busy.basis.endswith("the machine is busier now (2 other processes running), counted.")


def test_a_real_run_learned_from_accounts_for_its_own_time(toy_dataset, monkeypatch):
    """Every part of a real run is in the model: the run it learned from, estimated again
    under the same load (none, read both times), comes out near its own recorded wall time
    however busy the machine was (a check of the recorded seconds, not of its speed)."""
    import keras  # noqa: F401  (this process starts warm, as the estimate with here=True assumes)

    from lstm_core.execution import training

    monkeypatch.setattr(training, "runnable_others", lambda: 0.0)
    monkeypatch.setattr(estimates, "runnable_others", lambda: 0.0)
    workspace, dataset_id = toy_dataset
    engine = Engine(workspace.root)
    spec = tiny_spec(dataset_id)
    run = training.train(spec, workspace)
    assert run.status == "completed" and engine.result(run.id).launch_load == 0.0
    estimates._timings.clear()
    guess = engine.estimate(spec, here=True)
    took = run.finished_at - run.started_at
    assert guess.runs == 1 and guess.low < guess.seconds < guess.high
    assert guess.low <= took <= guess.high, (took, guess)
