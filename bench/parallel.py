"""Speed-up of parallel grid trials: `python bench/parallel.py [--data FILE] [--json]`.

Times the same grid (4 candidates x 2 folds, then the refit) through the run path with
`n_jobs=1` and `n_jobs=2`, one after the other in this run, and reports the ratio.
Uses ../shared/data/spam.csv when present, else the bundled sample.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lstm_core.datasets import freeze_dataset
from lstm_core.intake import read_path
from lstm_core.spec import ExperimentSpec
from lstm_core.training import train
from lstm_core.validation import select_columns
from lstm_core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SPAM = ROOT.parent / "shared" / "data" / "spam.csv"
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    df, report = read_path(args.data)
    data = select_columns(df, report.suggested_text, report.suggested_label, cv=2)
    figures = {
        "data": Path(args.data).name,
        "cores": os.cpu_count(),
        "grid": "arch lstm,gru x units 16,32; cv 2",
    }
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace(folder)
        dataset_id = freeze_dataset(workspace, data, "bench", "text", "label")
        for n_jobs in (1, 2):
            spec = ExperimentSpec(
                dataset_id,
                params={"epochs": args.epochs},
                grid={"arch": ["lstm", "gru"], "units": [16, 32]},
                cv=2,
                n_jobs=n_jobs,
            )
            start = time.perf_counter()
            run = train(spec, workspace)
            figures[f"n_jobs_{n_jobs}_s"] = round(time.perf_counter() - start, 1)
            assert run["status"] == "completed", run["error"]
    figures["parallel_speedup"] = round(figures["n_jobs_1_s"] / figures["n_jobs_2_s"], 2)
    print(json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
