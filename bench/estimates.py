"""Time estimates against the runs they estimate: `python bench/estimates.py [--json]`.

On the bundled sample (sample_data/sms_spam.csv, 1,500 texts) four small designs run the
way the dashboard runs them (queued, taken by the workspace's warm worker, fits in fit
processes), each estimated by `Engine.estimate` just before its launch:
- grid: LSTM / GRU x 16 / 32 units, 2 epochs, 2 folds;
- tpe: TPE, 6 candidates over units 8-32 and learning rate 1e-3 to 1e-1 (log), 3 epochs,
  one validation split, median pruning;
- transfer: the grid run's model (`--from`), frozen, 2 epochs and 1 fine-tune epoch, 2 folds;
- vectors self: word2vec on the training texts, 2 epochs, 2 folds.
First on a machine as quiet as it is (the first design has no earlier run to learn from),
then again with one CPU-burning process per core, started and stopped here. Each
estimate comes `THINK_S` after the previous run's end, as a person's would. `--cold`:
no warm worker, so every run starts a worker and fit processes that import TensorFlow.

Actual: the run's started_at to finished_at. Prints each estimate, its range and basis,
the actual seconds and actual / estimate (the goal: within 1.5x either way). With `--json`
the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"
WARM_S = "120"
GOAL = 1.5
THINK_S = 10.0  # between one run's end and the next estimate, as a person designs it


def designs(dataset_id: str, parent: str | None) -> dict:
    from lstm_core.api import ExperimentSpec, Range

    two_folds = {"params": {"epochs": 2}, "cv": 2}
    found = {
        "grid": ExperimentSpec(
            dataset_id, grid={"arch": ["lstm", "gru"], "units": [16, 32]}, **two_folds
        ),
        "tpe": ExperimentSpec(
            dataset_id,
            params={"epochs": 3},
            search="tpe",
            n_iter=6,
            ranges={"units": Range(8, 32, True), "learning_rate": Range(1e-3, 1e-1, True)},
            prune="median",
            cv=0,
        ),
        "vectors self": ExperimentSpec(dataset_id, vectors="self", **two_folds),
    }
    if parent:
        found["transfer"] = ExperimentSpec(
            dataset_id, parent=parent, freeze="all", fine_tune_epochs=1, **two_folds
        )
    return found


def measured(engine, spec) -> dict:
    """Think, estimate, launch, wait: the estimate beside what the run took."""
    time.sleep(THINK_S)
    guess = engine.estimate(spec)
    run = engine.submit(spec)
    while (run := engine.run(run.id)).status.active:
        time.sleep(0.1)
    assert run.status == "completed", run.error
    actual = run.finished_at - run.started_at
    return {
        "run": run.id,
        "estimate_s": round(guess.seconds, 1),
        "low_s": round(guess.low, 1),
        "high_s": round(guess.high, 1),
        "actual_s": round(actual, 1),
        "ratio": round(actual / guess.seconds, 2),
        "in_range": guess.low <= actual <= guess.high,
        "basis": guess.basis,
    }


def burners(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="no warm worker: every run starts a fresh one"
    )
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-estimates-")
    os.environ["LSTM_CORE_HOME"] = folder
    os.environ["LSTM_CORE_WARM_S"] = "0" if args.cold else WARM_S

    from lstm_core.api import Engine
    from lstm_core.domain.spec import usable_cores
    from lstm_core.execution.machine_load import KEPT_S
    from lstm_core.jobs import standby

    engine = Engine(folder)
    frame, report = engine.read_path(SAMPLE)
    dataset = engine.freeze_dataset(frame, report.suggested_text, report.suggested_label, "sms")[0]
    figures: dict[str, dict] = {}
    burning: list[subprocess.Popen] = []
    try:
        parent = None
        for phase in ("quiet", "busy"):
            if phase == "busy":
                burning = burners(usable_cores())
                time.sleep(KEPT_S)  # a reading kept from before the burners expires
            for name in ("grid", "tpe", "transfer", "vectors self"):
                spec = designs(dataset.id, parent).get(name)
                if spec is None:
                    continue
                row = measured(engine, spec)
                figures[f"{phase} {name}"] = row
                parent = parent or row["run"]
                print(
                    f"{phase:5} {name:12} estimate {row['estimate_s']:6.1f} s "
                    f"({row['low_s']}-{row['high_s']}) actual {row['actual_s']:6.1f} s "
                    f"ratio {row['ratio']:.2f}  {row['basis']}",
                    flush=True,
                )
    finally:
        for process in burning:
            process.kill()
            process.wait()
        standby.stop(engine.workspace)
    calibrated = [f for f in figures.values() if not f["basis"].startswith("No finished run")]
    summary = {
        "within_goal": sum(1 / GOAL <= f["ratio"] <= GOAL for f in calibrated),
        "calibrated": len(calibrated),
        "in_range": sum(f["in_range"] for f in calibrated),
    }
    print(
        f"{summary['within_goal']} of {summary['calibrated']} learned estimates within "
        f"{GOAL}x of the actual time, {summary['in_range']} inside their range"
    )
    if args.json:
        print(json.dumps({"runs": figures, **summary}))


if __name__ == "__main__":
    main()
