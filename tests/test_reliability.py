"""Faults a hostile tester tries, with real processes, real signals and real files: killed
and paused workers, a queue nobody watches, damaged and read-only stores, a full disk,
fast cancels, and CLI input that once gave tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_SENTIMENT, SAMPLE_SMS, tiny_spec
from test_background import LONG_EPOCHS, status_of, wait_for

from lstm_core.api import Engine, RunStatus, TrialStatus
from lstm_core.domain.errors import DiskFull
from lstm_core.domain.processes import process_alive, this_host
from lstm_core.execution.training import submit_run, train
from lstm_core.jobs import dispatch, limits, queue
from lstm_core.store.store_errors import StoreDamaged
from lstm_core.store.workspace import Workspace


def cli(*args: str, home, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "LSTM_CORE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "lstm_core", *args],
        capture_output=True,
        text=True,
        env=env,
        **kwargs,
    )


def fit_pids(workspace, run_id) -> set[int]:
    return {t.pid for t in workspace.store.trials(run_id) if t.pid}


def one_line_error(done: subprocess.CompletedProcess, starts: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"lstm-core: {starts}"), (
        done.stderr
    )


@pytest.fixture
def stop_all(toy_dataset):
    """Cancel what a test leaves running and wait for its worker."""
    workspace, _ = toy_dataset
    yield
    for run in workspace.store.runs_with_status(RunStatus.RUNNING):
        workspace.store.request_cancel(run.id)
        if run.pid:
            os.kill(run.pid, signal.SIGCONT)
            wait_for(lambda pid=run.pid: not process_alive(pid), "worker exit", 60)
    for run in workspace.store.runs_with_status(RunStatus.QUEUED):
        workspace.store.cancel_run(run.id)


def test_a_killed_worker_leaves_no_fit_process(toy_dataset, stop_all):
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, n_jobs=2))
    wait_for(lambda: len(fit_pids(workspace, run_id)) == 2, "both fit processes fitting")
    worker, children = workspace.store.get_run(run_id).pid, fit_pids(workspace, run_id)
    os.kill(worker, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: not any(process_alive(p) for p in children), "its fit processes", 10)
    print(f"\nfit processes gone {time.monotonic() - killed:.1f} s after the kill")
    queue.refresh(workspace)
    assert status_of(workspace, run_id) == RunStatus.INTERRUPTED
    assert {t.status for t in workspace.store.trials(run_id)} == {TrialStatus.INTERRUPTED}


def test_a_worker_whose_run_was_taken_from_it_writes_nothing_more(toy_dataset, stop_all):
    """Paused, then its run interrupted by another reader: when it goes on, it finds the
    run no longer its own and stops, without a fit, an epoch or a file more."""
    workspace, dataset_id = toy_dataset
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, grid={}, cv=0))
    wait_for(lambda: workspace.store.epochs(run_id), "epochs")
    worker = workspace.store.get_run(run_id).pid
    os.kill(worker, signal.SIGSTOP)
    try:
        workspace.store.interrupt_run(run_id, "taken over by another machine's reader")
        trials, epochs = workspace.store.trials(run_id), len(workspace.store.epochs(run_id))
    finally:
        os.kill(worker, signal.SIGCONT)
    wait_for(lambda: not process_alive(worker), "the worker to stop by itself", 30)
    assert status_of(workspace, run_id) == RunStatus.INTERRUPTED
    assert [t.id for t in workspace.store.trials(run_id)] == [t.id for t in trials]
    assert len(workspace.store.epochs(run_id)) == epochs
    assert not workspace.bundle_dir(run_id).exists()
    assert "was taken from this worker" in workspace.worker_log(run_id).read_text()


def test_a_killed_foreground_train_leaves_no_fit_process(tmp_path):
    """Its fit processes end, and quietly: a closed pipe to the run is no fault of theirs."""
    home = tmp_path / "ws"
    env = {**os.environ, "LSTM_CORE_HOME": str(home)}
    command = [sys.executable, "-m", "lstm_core", "train", str(SAMPLE_SENTIMENT), "--text",
               "review", "--label", "sentiment", "--arch", "gru", "--arch", "lstm", "--set",
               "units=4", "--epochs", str(LONG_EPOCHS), "--cv", "2", "--n-jobs", "2"]  # fmt: skip
    foreground = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        workspace = wait_for(lambda: (home / "runs.sqlite").exists() and Workspace(home), "store")
        run_id = wait_for(lambda: [r.id for r in workspace.store.list_runs()], "the run")[0]
        wait_for(lambda: workspace.store.epochs(run_id), "epochs")
        children = fit_pids(workspace, run_id)
        assert len(children) == 2 and foreground.pid not in children
    finally:
        foreground.kill()
        foreground.wait()
    epochs_at_kill = len(workspace.store.epochs(run_id))
    wait_for(lambda: not any(process_alive(p) for p in children), "its fit processes", 10)
    assert len(workspace.store.epochs(run_id)) == epochs_at_kill
    said = foreground.stderr.read()  # the fit processes wrote to the same stderr
    assert "Traceback" not in said and "Broken pipe" not in said, said[-3000:]


@pytest.mark.slow
def test_a_worker_paused_past_the_silence_limit_finishes_its_run_and_the_limit_holds(
    toy_dataset, stop_all, monkeypatch
):
    """A stopped worker sends no heartbeat, yet on this machine it is alive: its run is not
    taken from it however long it stays silent, and the queued run keeps waiting."""
    monkeypatch.setenv(limits.STALE_VARIABLE, "4")  # the default 60 s, shortened
    silence = limits.stale_after_s() + 6
    workspace, dataset_id = toy_dataset
    first = queue.submit(workspace, tiny_spec(dataset_id, epochs=8, grid={}, cv=0))
    second = queue.submit(workspace, tiny_spec(dataset_id, epochs=1, grid={}, cv=0, seed=7))
    wait_for(lambda: workspace.store.epochs(first), "the first run's epochs")
    worker = workspace.store.get_run(first).pid
    os.kill(worker, signal.SIGSTOP)
    paused, most_at_once = time.monotonic(), 0
    try:
        while time.monotonic() - paused < silence:
            queue.refresh(workspace)  # a reader looks, as the dashboard would
            statuses = [status_of(workspace, r) for r in (first, second)]
            most_at_once = max(most_at_once, statuses.count(RunStatus.RUNNING))
            assert statuses == [RunStatus.RUNNING, RunStatus.QUEUED], statuses
            time.sleep(1)
    finally:
        os.kill(worker, signal.SIGCONT)
    wait_for(lambda: status_of(workspace, second).finished, "both runs", 180)
    assert most_at_once == 1
    engine = Engine(workspace.root)
    assert status_of(workspace, first) == RunStatus.COMPLETED
    assert engine.result(first) is not None and engine.has_model(first)
    assert status_of(workspace, second) == RunStatus.COMPLETED


def test_a_queued_run_starts_within_10_s_of_its_predecessors_death_with_no_reader(
    toy_dataset, stop_all
):
    workspace, dataset_id = toy_dataset
    first = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, grid={}, cv=0))
    second = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, grid={}, seed=3))
    wait_for(lambda: workspace.store.epochs(first), "the first run's epochs")
    assert status_of(workspace, second) == RunStatus.QUEUED
    os.kill(workspace.store.get_run(first).pid, signal.SIGKILL)
    killed = time.monotonic()
    # only plain reads from here on: nothing that reaps or dispatches
    wait_for(lambda: workspace.store.get_run(second).pid, "the queued run to start", 10)
    print(f"\nqueued run started {time.monotonic() - killed:.1f} s after the kill")
    assert status_of(workspace, first) == RunStatus.INTERRUPTED


def test_a_cancel_while_the_worker_starts_or_trains_stops_it_all(toy_dataset, stop_all):
    """What a cancel does, not how fast (a busy machine stretches that; bench/cancel.py
    measures it): the run ends cancelled, its fits stopped short, and after that nothing
    more is written and no process of it is left."""
    workspace, dataset_id = toy_dataset
    latencies = []
    for when in ("starting", "training"):
        run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, n_jobs=2))
        worker = wait_for(lambda run_id=run_id: workspace.store.get_run(run_id).pid, "a worker")
        if when == "training":
            wait_for(lambda run_id=run_id: workspace.store.epochs(run_id), "epochs")
        asked = time.monotonic()
        queue.cancel(workspace, run_id)
        wait_for(lambda run_id=run_id: status_of(workspace, run_id).finished, "cancel", 120)
        latencies.append(round(time.monotonic() - asked, 2))
        assert status_of(workspace, run_id) == RunStatus.CANCELLED
        trials = workspace.store.trials(run_id)
        assert {t.status for t in trials} <= {TrialStatus.CANCELLED}, trials
        epochs = workspace.store.epochs(run_id)
        for trial in trials:  # stopped short of its 400 epochs
            assert sum(e.trial_id == trial.id for e in epochs) < LONG_EPOCHS
        processes = {worker} | fit_pids(workspace, run_id)
        wait_for(lambda ps=processes: not any(map(process_alive, ps)), "its processes", 120)
        assert len(workspace.store.epochs(run_id)) == len(epochs), "written after cancelled"
    print(f"\ncancel latency while starting / while training: {latencies} s")


def completed_run(workspace, dataset_id) -> str:
    run = train(tiny_spec(dataset_id, grid={}, cv=0), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    return run.id


@pytest.mark.parametrize("damage", ["empty", "truncated", "late page"])
def test_a_damaged_database_is_reported_not_replaced_and_doctor_rebuilds_it(toy_dataset, damage):
    workspace, dataset_id = toy_dataset
    run_ids = [completed_run(workspace, dataset_id), completed_run(workspace, dataset_id)]
    before = {run_id: Engine(workspace.root).result(run_id) for run_id in run_ids}
    database = workspace.database
    with sqlite3.connect(database) as db:  # every page in use, the last one included
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = database.read_bytes()
    page = 4096
    damaged = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "late page": data[: len(data) - page] + b"\x5a" * page,
    }[damage]
    database.write_bytes(damaged)
    Path(str(database) + "-wal").unlink(missing_ok=True)

    with pytest.raises(StoreDamaged, match="lstm-core doctor --repair"):
        Engine(workspace.root).runs()
    one_line_error(cli("runs", home=workspace.root), "The run database")
    assert database.read_bytes() == damaged, "the damaged file was changed"

    checked = cli("doctor", "--json", home=workspace.root)
    report = json.loads(checked.stdout.strip().splitlines()[-1])
    assert checked.returncode == 1 and report["ok"] is False and report["problems"]
    repaired = cli("doctor", "--repair", "--json", home=workspace.root)
    report = json.loads(repaired.stdout.strip().splitlines()[-1])
    assert repaired.returncode == 0 and report["ok"] is True, report
    assert any("Moved the damaged database aside" in r for r in report["repaired"])
    engine = Engine(workspace.root)
    assert sorted(r.id for r in engine.runs()) == sorted(run_ids)
    for run_id in run_ids:
        assert engine.run(run_id).status == RunStatus.COMPLETED
        assert engine.result(run_id) == before[run_id]
        assert [t.fold for t in engine.trials(run_id)] == [0, None]
        assert engine.epochs(run_id) and engine.predict(run_id, ["win cash"])
    assert engine.datasets()[0].id == dataset_id
    aside = list(workspace.root.glob("runs.sqlite.damaged-*"))
    assert [p.read_bytes() for p in aside if not p.name.endswith(("-wal", "-shm"))] == [damaged]


def test_doctor_finds_and_mends_stuck_runs_and_folders_without_records(toy_dataset):
    workspace, dataset_id = toy_dataset
    done = completed_run(workspace, dataset_id)
    engine = Engine(workspace.root)
    assert engine.doctor().ok
    store = workspace.store
    db = sqlite3.connect(workspace.database)
    with db:  # a run whose worker vanished, and a lost row
        db.execute(
            "UPDATE runs SET status = 'running', pid = 999999999, worker_host = ? WHERE id = ?",
            (this_host(), done),
        )
    lost = completed_run(workspace, dataset_id)
    with db:
        db.execute(
            "DELETE FROM epochs WHERE trial_id IN (SELECT id FROM trials WHERE run_id=?)", (lost,)
        )
        db.execute("DELETE FROM trials WHERE run_id = ?", (lost,))
        db.execute("DELETE FROM runs WHERE id = ?", (lost,))
    db.close()
    checkup = engine.doctor()
    assert not checkup.ok
    assert any(f"Run {done} is marked running" in p for p in checkup.problems)
    assert any(lost in p and "no record in the database" in p for p in checkup.problems)
    repaired = engine.doctor(repair=True)
    assert repaired.ok, repaired.remaining
    assert store.get_run(done).status == RunStatus.INTERRUPTED
    assert store.get_run(lost).status == RunStatus.COMPLETED and engine.result(lost) is not None


def mount(*args: str) -> None:
    """Run `mount`, or skip the test where this process may not."""
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


def test_a_read_only_workspace_still_lists_runs_and_predicts(toy_dataset, tmp_path):
    workspace, dataset_id = toy_dataset
    run_id = completed_run(workspace, dataset_id)
    # A connection held open keeps the next run's rows in the write-ahead log, not yet in
    # the database file: a read-only reader must see them too.
    keep = sqlite3.connect(workspace.database)
    keep.execute("SELECT 1 FROM runs").fetchall()
    newer = completed_run(workspace, dataset_id)
    assert Path(str(workspace.database) + "-wal").stat().st_size > 0
    frozen = tmp_path / "read-only"
    frozen.mkdir()
    mount("--bind", str(workspace.root), str(frozen))
    try:
        mount("-o", "remount,bind,ro", str(frozen))
        listed = cli("runs", "--json", home=frozen)
        assert listed.returncode == 0, listed.stderr[-2000:]
        listed_ids = [r["id"] for r in json.loads(listed.stdout.strip().splitlines()[-1])]
        assert listed_ids == [newer, run_id]
        predicted = cli("predict", run_id, "win cash now", "--json", home=frozen)
        assert predicted.returncode == 0, predicted.stderr[-2000:]
        assert json.loads(predicted.stdout.strip().splitlines()[-1])["label"] in ("ham", "spam")
        one_line_error(cli("delete", run_id, "--yes", home=frozen), "The workspace")
        assert cli("status", run_id, home=frozen).returncode == 0
        checked = cli("doctor", home=frozen)  # it only reads: a sound workspace is well
        assert checked.returncode == 0 and "all is well" in checked.stdout, checked.stderr
    finally:
        subprocess.run(["umount", "-l", str(frozen)], check=False)
        keep.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs, where the machine lets this process mount one."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk))
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_fails_the_run_with_a_sentence_and_leaves_no_partial_file(
    small_disk, monkeypatch
):
    from conftest import toy_texts

    from lstm_core.data.datasets import LabelledTexts, freeze_dataset

    monkeypatch.setenv("LSTM_CORE_HOME", str(small_disk / "ws"))
    workspace = Workspace()
    texts, labels = toy_texts()
    data = LabelledTexts(texts, labels, {"ham": 30, "spam": 30})
    dataset_id = freeze_dataset(workspace, data, "toy", "text", "label").id
    run_id = queue.submit(workspace, tiny_spec(dataset_id, epochs=LONG_EPOCHS, grid={}, cv=0))
    try:
        wait_for(lambda: workspace.store.epochs(run_id), "epochs")
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 65536)

        def ended() -> bool:
            try:
                return status_of(workspace, run_id).finished
            except DiskFull:  # readers too are refused while the disk is full
                return False

        wait_for(ended, "the run to stop", 60)
    finally:
        workspace.store.request_cancel(run_id)
    run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.FAILED, run
    assert "is full" in run.error and "resume the run" in run.error
    assert run.error.count("is full") == 1, f"one sentence, not nested: {run.error}"
    with open(small_disk / "filler-2", "wb", buffering=0) as handle, pytest.raises(OSError):
        while True:  # full again: commands answer in one sentence or work, never a traceback
            handle.write(b"\0" * 65536)
    listed = cli("runs", home=workspace.root)
    assert "Traceback" not in listed.stderr
    assert listed.returncode == 0 or listed.stderr.count("\n") == 1, listed.stderr
    assert listed.stderr.count("is full") <= 1, listed.stderr
    checked = cli("doctor", home=workspace.root)
    assert "Traceback" not in checked.stderr and "no run is writing" not in checked.stderr
    (small_disk / "filler-2").unlink()
    leftovers = [
        p for p in small_disk.rglob("*") if p.name.endswith(".partial") or ".reserve" in p.name
    ]
    assert leftovers == []
    filler.unlink()
    listed = cli("status", run_id, "--json", home=workspace.root)
    assert json.loads(listed.stdout.strip().splitlines()[-1])["status"] == "failed"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--test-size", "0"], "test size 0.0 is out of range"),
        (["--test-size", "nan"], "test size nan is out of range"),
        (["--seed", "-1"], "seed = -1 is not possible"),
    ],
)
def test_train_settings_are_checked_before_anything_starts(args, message, tmp_path):
    command = ["train", str(SAMPLE_SENTIMENT), "--text", "review", "--label", "sentiment"]
    one_line_error(cli(*command, *args, home=tmp_path), message)
    assert not (tmp_path / "datasets").exists(), "nothing was saved"


def test_export_predict_interrupt_and_a_closed_pipe_end_quietly(toy_dataset, tmp_path):
    workspace, dataset_id = toy_dataset
    run_id = completed_run(workspace, dataset_id)
    home = workspace.root
    one_line_error(
        cli("export", run_id, "--out", str(tmp_path), home=home), f"'{tmp_path}' is a folder"
    )
    one_line_error(
        cli("export", run_id, "--out", str(tmp_path / "no" / "m.zip"), home=home),
        f"There is no folder '{tmp_path / 'no'}'",
    )
    # a bundle whose model holds code (a Lambda layer): safe mode refuses it in one sentence
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(workspace.bundle_dir(run_id) / "model.keras")
    one_line_error(cli("predict", run_id, "hello", home=home), "The model in")

    closed = subprocess.Popen(
        [sys.executable, "-m", "lstm_core", "runs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LSTM_CORE_HOME": str(home)},
    )
    closed.stdout.close()  # the reader goes away before anything is printed (`| head -0`)
    try:
        assert closed.wait(60) == 141
    finally:
        closed.kill()
    assert b"Traceback" not in closed.stderr.read()

    command = [sys.executable, "-m", "lstm_core", "train", str(SAMPLE_SENTIMENT), "--text",
               "review", "--label", "sentiment", "--arch", "lstm", "--arch", "gru", "--set",
               "units=4", "--epochs", str(LONG_EPOCHS), "--cv", "0", "--n-jobs", "2"]  # fmt: skip
    interrupted = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LSTM_CORE_HOME": str(tmp_path / "ctrl-c")},
        start_new_session=True,  # its own process group, as a terminal gives it
        # and Ctrl-C's default meaning: a launcher without job control (a CI script's
        # background job) hands its children SIGINT ignored, and Python then never raises
        # KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    store = wait_for(
        lambda: (
            (tmp_path / "ctrl-c" / "runs.sqlite").exists() and Workspace(tmp_path / "ctrl-c").store
        ),
        "store",
    )
    wait_for(lambda: [r for r in store.list_runs() if store.epochs(r.id)], "epochs")
    os.killpg(interrupted.pid, signal.SIGINT)  # Ctrl-C reaches the fit processes too
    try:  # (it takes about a second; the limit only bounds a hang)
        code = interrupted.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(interrupted.pid, signal.SIGKILL)
        interrupted.wait()
        code = "still running after 120 s"
    stderr = interrupted.stderr.read()
    assert code == 130, f"{code}; its stderr ended: {stderr[-3000:]}"
    assert "Traceback" not in stderr and stderr.strip().endswith("lstm-core: interrupted")
    (run,) = store.list_runs()
    assert run.status == RunStatus.CANCELLED, "Ctrl-C ends the run cancelled, resumable"


def test_ctrl_c_as_the_fit_processes_start_ends_without_their_tracebacks(tmp_path):
    """Ctrl-C reaches the whole process group, also fit processes not yet serving (they
    printed a KeyboardInterrupt traceback) and the run's process between starting one and
    telling it what to run (the child then printed an EOFError traceback)."""
    home = tmp_path / "ws"
    command = [sys.executable, "-m", "lstm_core", "train", str(SAMPLE_SMS), "--text", "message",
               "--label", "label", "--grid", "units=4,8", "--set", "embedding_dim=4",
               "--epochs", "3", "--cv", "2", "--n-jobs", "2"]  # fmt: skip
    interrupted = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LSTM_CORE_HOME": str(home)},
        start_new_session=True,  # its own process group, as a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's
    )
    store = wait_for(lambda: (home / "runs.sqlite").exists() and Workspace(home).store, "store")
    # a fit is handed to its process as soon as the process is started, before it serves
    wait_for(lambda: [r for r in store.list_runs() if store.trials(r.id)], "the first fit")
    os.killpg(interrupted.pid, signal.SIGINT)
    try:
        code = interrupted.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(interrupted.pid, signal.SIGKILL)
        interrupted.wait()
        code = "still running after 120 s"
    stderr = interrupted.stderr.read()  # to its end: the fit processes' stderr too
    assert code == 130, f"{code}; its stderr ended: {stderr[-3000:]}"
    assert "Traceback" not in stderr, stderr[-3000:]
    assert stderr.strip().endswith("lstm-core: interrupted")


def test_control_characters_in_a_label_are_escaped_on_the_terminal(tmp_path):
    hostile = "spam\x1b]0;pwned\x07\x1b[31m"
    rows = [("ham", f"see you at lunch {i}") for i in range(12)]
    rows += [(hostile, f"win cash prize {i}") for i in range(16)]  # the majority class
    data = tmp_path / "hostile.csv"
    data.write_text("label,text\n" + "".join(f'"{a}",{b}\n' for a, b in rows), encoding="utf-8")
    trained = cli("train", str(data), "--text", "text", "--label", "label", "--set",
                  "units=4", "--epochs", "1", "--cv", "0", home=tmp_path / "ws")  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    for said in (trained.stdout, trained.stderr):  # the summary names the majority class
        assert "\x1b" not in said and "\x07" not in said, said
    assert "majority class (spam\\x1b]0;pwned\\x07\\x1b[31m)" in trained.stdout
    run_id = trained.stdout.split()[1]  # "run ID completed; ..."
    said = cli("predict", run_id, "win cash prize 3", "see you", home=tmp_path / "ws")
    assert "\x1b" not in said.stdout and "\x07" not in said.stdout
    labels = {line.split("\t")[0] for line in said.stdout.splitlines()}
    assert labels <= {"ham", "spam\\x1b]0;pwned\\x07\\x1b[31m"}
    as_json = cli("predict", run_id, "win cash prize 3", "--json", home=tmp_path / "ws")
    assert json.loads(as_json.stdout.strip().splitlines()[-1])["probabilities"].keys() == {
        "ham",
        hostile,
    }


def test_status_json_says_when_the_run_started(toy_dataset):
    workspace, dataset_id = toy_dataset
    done = completed_run(workspace, dataset_id)
    holding = submit_run(workspace, tiny_spec(dataset_id), foreground=True)  # fills the slot
    queued = submit_run(workspace, tiny_spec(dataset_id))

    def status(run_id) -> dict:
        shown = cli("status", run_id, "--json", home=workspace.root)
        return json.loads(shown.stdout.splitlines()[-1])

    assert (status(queued)["status"], status(queued)["started_at"]) == ("queued", None)
    finished = status(done)
    assert finished["started_at"] <= time.time() and finished["trials"][-1]["fold"] is None
    workspace.store.cancel_run(queued)
    workspace.store.cancel_run(holding)


def test_a_run_whose_worker_cannot_start_fails_at_once_with_the_reason(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    log = workspace.worker_log(run_id)
    log.mkdir(parents=True)  # the log file cannot be opened: no worker can start
    dispatch.dispatch(workspace)
    run = workspace.store.get_run(run_id)
    assert run.status == RunStatus.FAILED and run.error.startswith("No worker could be started")
    assert workspace.store.claim_next(1) is None  # nothing holds a place in the queue
    shutil.rmtree(log)
