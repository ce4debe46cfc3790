"""The machine's load as an estimate reads it: runnable processes besides the asker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lstm_core.execution import machine_load


@pytest.fixture
def fresh_reading(monkeypatch):
    monkeypatch.setattr(machine_load, "_kept", None)


def test_a_process_burning_a_core_is_counted(fresh_reading):
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        # A runnable process counts at every reading, whether or not it has a core then.
        assert machine_load.runnable_others() >= 1
    finally:
        burner.kill()
        burner.wait()


def test_a_recent_reading_is_reused_and_an_unreadable_system_reads_as_quiet(
    fresh_reading, monkeypatch
):
    monkeypatch.setattr(machine_load, "_runnable", lambda: 5)
    assert machine_load.runnable_others() == 4  # the asker is not counted
    monkeypatch.setattr(machine_load, "_runnable", lambda: 9)
    assert machine_load.runnable_others() == 4, "a page's reruns reuse the kept reading"
    monkeypatch.setattr(machine_load, "_kept", None)
    monkeypatch.setattr(machine_load, "_runnable", lambda: None)
    assert machine_load.runnable_others() == 0.0
