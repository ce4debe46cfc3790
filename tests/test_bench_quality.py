"""bench/quality.py runs end to end and reports the run's own scores beside its baselines."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, SAMPLE_SENTIMENT, TINY


def test_the_quality_benchmark_reports_each_run_against_its_baselines(tmp_path):
    design = json.dumps({**TINY, "epochs": 2})
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "quality.py"), "--data",
         f"reviews={SAMPLE_SENTIMENT}", "--seeds", "0", "--cv", "0", "--ungrouped",
         "--design", design, "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    designs = [run["design"] for run in report["runs"]]
    assert designs == ["default", "default, ungrouped"]
    for run in report["runs"]:
        assert run["data"] == "reviews" and run["seed"] == 0
        assert 0.0 <= run["accuracy"] <= 1.0 and 0.0 <= run["baseline_accuracy"] <= 1.0
        # Always answering one class of three balanced ones is right about a third of the time.
        assert 0.25 < run["majority_accuracy"] < 0.45
        assert run["n_train"] + run["n_test"] == 360
    (summary,) = [row for row in report["summary"] if row["design"] == "default"]
    assert summary["wins"] in (0, 1) and summary["seeds"] == 1


def test_a_missing_data_file_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "quality.py"), "--data",
         f"gone={tmp_path / 'nothing.csv'}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no file at" in done.stderr
