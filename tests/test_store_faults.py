"""The workspace never bricks: a stopped writer, a damaged byte inside a row, a deleted
database and a deleted run folder, each tried for real with the CLI in its own process.

Reads must go on without a traceback, a write must end in one sentence that says what is
wrong, and `doctor --repair` must put back what the run folders still hold.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import tiny_spec
from test_reliability import cli, one_line_error

from lstm_core.api import Engine, RunStatus
from lstm_core.execution.training import train
from lstm_core.store.backends import sqlite as sqlite_backend
from lstm_core.store.store_errors import WorkspaceBusy
from lstm_core.store.store_url import open_store


def completed(workspace, dataset_id, **changes) -> str:
    run = train(tiny_spec(dataset_id, grid={}, cv=0, **changes), workspace)
    assert run.status == RunStatus.COMPLETED, run.error
    return run.id


def last_json(done: subprocess.CompletedProcess):
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_stopped_writer_stops_no_reader_and_a_write_names_it(toy_dataset, request):
    workspace, dataset_id = toy_dataset
    run_id = completed(workspace, dataset_id)
    holder = request.getfixturevalue("stopped_writer")
    home = workspace.root

    runs = last_json(cli("runs", "--json", home=home))
    assert [r["id"] for r in runs] == [run_id] and runs[0]["note"] is None, "committed only"
    assert last_json(cli("status", run_id, "--json", home=home))["status"] == "completed"
    assert [d["id"] for d in last_json(cli("datasets", "--json", home=home))] == [dataset_id]
    predicted = last_json(cli("predict", run_id, "win cash now", "--json", home=home))
    assert predicted["label"] in ("ham", "spam")

    noted = cli("note", run_id, "try 32 units", home=home)
    one_line_error(noted, "The workspace is busy")
    assert f"process {holder.pid}" in noted.stderr and "is stopped" in noted.stderr

    report = last_json(cli("doctor", "--json", home=home))
    assert not report["ok"]
    assert any(f"process {holder.pid}" in p and "is stopped" in p for p in report["problems"])
    assert f"process {holder.pid}" in Engine(home).stopped_writer()

    os.kill(holder.pid, signal.SIGCONT)
    holder.kill()
    holder.wait()  # its write never lands; the workspace works again at once
    assert cli("note", run_id, "try 32 units", home=home).returncode == 0
    assert Engine(home).run(run_id).note == "try 32 units"
    assert Engine(home).stopped_writer() is None


def test_opening_the_store_takes_no_write_lock(toy_dataset, monkeypatch):
    workspace, _ = toy_dataset
    assert workspace.store.list_runs() == []
    other = sqlite3.connect(workspace.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        opened = open_store(workspace.store_url, workspace.archive)  # must not wait
        assert opened.list_datasets() and opened.list_runs() == []
        monkeypatch.setattr(sqlite_backend, "WRITE_WAIT_S", 1.0)
        with pytest.raises(WorkspaceBusy, match="this process"):
            opened.describe_dataset(opened.list_datasets()[0].id, note="a note")
    finally:
        other.execute("ROLLBACK")
        other.close()


def damage_in_file(database: Path, find: bytes, replace: bytes) -> None:
    """Overwrite bytes inside one value of a row in the database file itself."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = database.read_bytes()
    assert data.count(find) == 1, data.count(find)
    database.write_bytes(data.replace(find, replace))


@pytest.mark.parametrize(
    "damage",
    [b'"seed": 4\xff\xfe2', b'"seed"x 4242'],
    ids=["bytes that are not text", "JSON that does not parse"],
)
def test_a_damaged_byte_inside_a_row_is_named_and_doctor_rebuilds_the_run(toy_dataset, damage):
    workspace, dataset_id = toy_dataset
    damaged = completed(workspace, dataset_id, seed=4242)
    intact = completed(workspace, dataset_id)
    engine = Engine(workspace.root)
    before = {run_id: (engine.run(run_id), engine.result(run_id)) for run_id in (damaged, intact)}
    damage_in_file(workspace.database, b'"seed": 4242', damage)
    home = workspace.root

    for command in (["status", damaged], ["runs"], ["doctor", "--json"]):
        done = cli(*command, home=home)
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
    one_line_error(cli("status", damaged, home=home), f"The record of run {damaged} is damaged")
    assert "its spec cannot be read" in cli("runs", home=home).stderr
    report = last_json(cli("doctor", "--json", home=home))
    assert not report["ok"] and any(damaged in p and "spec" in p for p in report["problems"]), (
        report
    )

    repaired = last_json(cli("doctor", "--repair", "--json", home=home))
    assert repaired["ok"], repaired
    assert any(f"Rebuilt run {damaged}" in r for r in repaired["repaired"])
    engine = Engine(home)
    for run_id, (run, result) in before.items():
        assert engine.run(run_id).spec == run.spec and engine.result(run_id) == result
        assert engine.run(run_id).status == RunStatus.COMPLETED
    assert engine.run(damaged).spec.seed == 4242
    assert last_json(cli("doctor", "--json", home=home))["ok"]


def test_a_deleted_database_beside_run_folders_is_reported_never_recreated(toy_dataset):
    workspace, dataset_id = toy_dataset
    run_id = completed(workspace, dataset_id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{workspace.database}{suffix}").unlink(missing_ok=True)
    home = workspace.root

    for command in (["runs"], ["status", run_id], ["datasets"], ["note", run_id, "x"]):
        one_line_error(cli(*command, home=home), "The run database")
        assert not workspace.database.exists(), f"{command[0]} created a new database"
    report = last_json(cli("doctor", "--json", home=home))
    assert not report["ok"] and "missing" in report["problems"][0]
    assert last_json(cli("doctor", "--repair", "--json", home=home))["ok"]
    assert [r["id"] for r in last_json(cli("runs", "--json", home=home))] == [run_id]


def test_reading_a_new_workspace_creates_nothing(tmp_path):
    home = tmp_path / "new"
    listed = cli("runs", home=home)
    assert listed.returncode == 0 and "no runs yet" in listed.stdout, listed.stderr
    assert last_json(cli("datasets", "--json", home=home)) == []
    assert last_json(cli("doctor", "--json", home=home))["ok"]
    assert not (home / "runs.sqlite").exists()


def test_a_run_whose_folder_or_model_was_removed_is_reported_everywhere(toy_dataset):
    workspace, dataset_id = toy_dataset
    no_folder = completed(workspace, dataset_id)
    no_model = completed(workspace, dataset_id)
    shutil.rmtree(workspace.run_dir(no_folder))
    shutil.rmtree(workspace.bundle_dir(no_model))
    home = workspace.root

    listed = {r["id"]: r["files_problem"] for r in last_json(cli("runs", "--json", home=home))}
    assert "folder" in listed[no_folder] and "saved model" in listed[no_model]
    assert "folder" in last_json(cli("status", no_folder, "--json", home=home))["files_problem"]
    assert f"Run {no_folder}'s folder" in cli("runs", home=home).stdout
    for command in (["predict", no_folder, "win"], ["errors", no_folder], ["export", no_folder]):
        one_line_error(cli(*command, home=home), f"Run {no_folder}'s folder")
    one_line_error(cli("predict", no_model, "win", home=home), f"Run {no_model}'s saved model")

    report = last_json(cli("doctor", "--json", home=home))
    assert any(f"Run {no_folder}'s folder" in p for p in report["problems"])
    assert any(f"Run {no_model}'s saved model" in p for p in report["problems"])
    repaired = cli("doctor", "--repair", "--json", home=home)
    report = last_json(repaired)
    assert repaired.returncode == 1 and not report["ok"], "a lost model cannot be repaired"
    assert any(f"Wrote run {no_folder}'s record" in r for r in report["repaired"])
    assert (workspace.run_dir(no_folder) / "run.json").exists()
    assert {p.split("'")[0] for p in report["remaining"]} == {
        f"Run {no_folder}",
        f"Run {no_model}",
    }
    assert all("saved model" in p for p in report["remaining"])


def test_listing_runs_and_their_status_starts_no_process(toy_dataset, monkeypatch):
    """Only the dashboard and `train` start workers: a warm worker started by `runs` held
    TensorFlow in three processes (~2 GB) for five minutes."""
    from lstm_core.jobs import standby, supervisor

    workspace, dataset_id = toy_dataset
    run_id = completed(workspace, dataset_id)
    monkeypatch.setenv(standby.WARM_VARIABLE, "300")
    for command in (["runs"], ["status", run_id], ["runs", "--json"]):
        assert cli(*command, home=workspace.root).returncode == 0
    assert not (workspace.root / standby.LOG_FILE).exists(), "a warm worker was started"
    assert not standby.alive(workspace) and not supervisor.running(workspace)


def test_doctor_reads_a_read_only_mount_with_no_shared_memory_file(toy_dataset, tmp_path):
    """On a read-only mount SQLite cannot create the `-shm` file a WAL reader needs: the
    doctor once said "try again when no run is writing to it" there."""
    from test_reliability import mount

    workspace, dataset_id = toy_dataset
    run_id = completed(workspace, dataset_id)
    assert not Path(f"{workspace.database}-shm").exists(), "the last connection removed it"
    frozen = tmp_path / "read-only"
    frozen.mkdir()
    mount("--bind", str(workspace.root), str(frozen))
    try:
        mount("-o", "remount,bind,ro", str(frozen))
        checked = cli("doctor", home=frozen)
        assert checked.returncode == 0 and "all is well" in checked.stdout, checked.stderr
        assert [r["id"] for r in last_json(cli("runs", "--json", home=frozen))] == [run_id]
    finally:
        subprocess.run(["umount", "-l", str(frozen)], check=False)
