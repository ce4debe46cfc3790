"""Executors: where fits run, which process gets which fit, and fit processes that behave."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import ROOT

from lstm_core.domain.errors import UserError
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.execution import executors
from lstm_core.execution.executor import Executor, ExecutorKind, ExecutorRequest
from lstm_core.execution.local_executors import InProcess, pick_next
from lstm_core.execution.trial import TrainingData, TrialTask


def task(candidate: int, fold: int, units: int) -> TrialTask:
    config = {**ExperimentSpec("d").fixed(), "units": units}
    rows = np.arange(4)
    return TrialTask("run", candidate, 0, fold, config, rows, rows, "f1_macro", 0)


def test_a_candidates_folds_go_where_its_model_is_kept():
    pending = [task(0, 0, 4), task(0, 1, 4), task(1, 0, 8), task(1, 1, 8)]
    first = pick_next(pending, kept_here=set(), elsewhere=set())
    assert first.key == (0, 0, 0)
    pending.remove(first)
    # the second process starts another candidate rather than the first one's next fold
    second = pick_next(pending, kept_here=set(), elsewhere={first.model_key})
    assert second.key == (1, 0, 0)
    pending.remove(second)
    # each process then takes the next fold of the model it keeps
    assert pick_next(pending, {second.model_key}, {first.model_key}).key == (1, 0, 1)
    assert pick_next(pending, {first.model_key}, {second.model_key}).key == (0, 0, 1)


def test_with_nothing_else_left_an_idle_process_helps_with_another_candidate():
    pending = [task(0, 1, 4)]
    assert pick_next(pending, kept_here={"other"}, elsewhere={pending[0].model_key}) is pending[0]


def request(address: str) -> ExecutorRequest:
    data = TrainingData(np.array(["a", "b"]), np.array(["x", "y"]))
    return ExecutorRequest(data, recorder=None, here=True, address=address)


def test_the_scheme_of_the_cluster_setting_picks_the_executor():
    assert executors.kind_of("").name == "this machine"
    assert executors.kind_of("local").name == "this machine"
    assert executors.kind_of("tcp://10.0.0.5:8786").name == "Dask"
    assert executors.kind_of("10.0.0.5:8786").name == "Dask"  # as `dask scheduler` prints it
    assert executors.kind_of("TLS://scheduler:8786").name == "Dask"
    assert isinstance(executors.make_executor(request("local")), InProcess)
    with pytest.raises(UserError, match=r"No executor answers 'ray://'.*tcp://"):
        executors.kind_of("ray://head:10001")
    with pytest.raises(UserError, match="nothing to reach"):
        executors.check_cluster("local")


def test_a_new_kind_of_cluster_is_one_record(monkeypatch):
    """Ray, say: a module with its executor and its check, listed in `KINDS`."""

    class Elsewhere(InProcess):
        @property
        def where(self) -> str:
            return "elsewhere"

    def check(address):
        return f"checked {address}"

    kind = ExecutorKind("Ray", ("ray",), lambda r: Elsewhere(r.data, r.recorder), check)
    monkeypatch.setattr(executors, "KINDS", (*executors.KINDS, kind))
    executor: Executor = executors.make_executor(request("ray://head:10001"))
    assert executor.where == "elsewhere"
    assert executors.check_cluster("ray://head:10001") == "checked ray://head:10001"


@pytest.mark.slow
def test_a_script_without_a_main_guard_trains_with_parallel_fits(tmp_path):
    """Spawned fit processes must not run the parent's script again (multiprocessing would)."""
    script = tmp_path / "classroom.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT / "tests")!r})
            from conftest import TINY, toy_texts
            from lstm_core.api import Engine, ExperimentSpec
            import pandas as pd

            engine = Engine({str(tmp_path / "ws")!r})
            texts, labels = toy_texts()
            frame = pd.DataFrame({{"text": texts, "label": labels}}, dtype="str")
            dataset, _ = engine.freeze_dataset(frame, "text", "label", "toy")
            spec = ExperimentSpec(dataset.id, params=TINY, grid={{"arch": ["lstm", "gru"]}},
                                  cv=2, test_size=0.25, n_jobs=2)
            run = engine.train(spec)
            print("RUN", run.status, len({{t.pid for t in engine.trials(run.id)}}))
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs = [line for line in done.stdout.splitlines() if line.startswith("RUN")]
    assert runs == ["RUN completed 2"], done.stdout  # one run, fitted by two processes


def test_a_fit_process_stops_when_the_process_that_started_it_is_gone(tmp_path):
    """The fit process's watchdog: its parent is SIGKILLed, it exits within seconds."""
    code = textwrap.dedent(
        """
        import os, sys, time, multiprocessing
        import numpy as np
        from lstm_core.execution import fit_process
        from lstm_core.execution.trial import TrainingData
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        tasks = context.Queue()
        tasks.put(TrainingData(np.array(["a b"], dtype=object), np.array(["x"], dtype=object)))
        child = context.Process(target=fit_process.serve, args=(
            tasks, sending, fit_process.SharedFlag(context), fit_process.SharedFlag(context), 1,
            os.getpid()))
        child.start()
        child.join(3)  # a fit process that cannot start ends at once
        assert child.is_alive(), child.exitcode
        print(child.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    from test_background import wait_for

    from lstm_core.domain.processes import process_alive

    wait_for(lambda: not process_alive(child), "the orphaned fit process to exit", timeout=20)


def test_a_stop_that_comes_as_a_fit_finishes_ends_the_wait_instead_of_hanging(tmp_path):
    """Stopped with a fit still waiting for a process: `wait` says so instead of waiting
    for a fit that will never start."""
    from conftest import TINY, toy_texts

    from lstm_core.domain.entities import Dataset, TrialStatus
    from lstm_core.domain.errors import RunCancelled
    from lstm_core.domain.processes import WorkerIdentity
    from lstm_core.execution.local_executors import FitProcesses
    from lstm_core.execution.run_loop import StoreRecorder
    from lstm_core.execution.trial import TrainingData
    from lstm_core.store.store_url import open_store, sqlite_url

    store = open_store(sqlite_url(tmp_path / "runs.sqlite"))
    store.add_dataset(Dataset("d", "toy", "text", "label", 60))
    me = WorkerIdentity.current()
    run_id = store.create_run(ExperimentSpec("d"), 3, running=me)
    texts, labels = toy_texts()
    rows = np.arange(len(texts))
    config = {**ExperimentSpec("d").fixed(), **TINY}
    tasks = [
        TrialTask(run_id, c, 0, 0, config, rows[::2], rows[1::2], "f1_macro", 0) for c in (0, 1, 2)
    ]
    recorder = StoreRecorder(store, run_id, me)
    executor = FitProcesses(TrainingData(texts, labels.astype(object)), recorder, n=1, threads=1)
    try:
        executor.submit(tasks)
        first = executor.wait()
        assert first.status == TrialStatus.COMPLETED
        store.request_cancel(run_id)
        started = time.monotonic()
        outcomes = []
        with pytest.raises(RunCancelled):
            while True:
                outcomes.append(executor.wait().status)
        # it ends: a hang never would (generous, so that a loaded machine does not fail it)
        assert time.monotonic() - started < 60
    finally:
        executor.close()
    assert outcomes in ([], [TrialStatus.CANCELLED], [TrialStatus.COMPLETED])
    assert len(store.trials(run_id)) == 2, "the third fit never started"
