"""Successive halving over training rows or over epochs, against the full grid:
`python bench/halving.py [--seeds K] [--epochs N]`.

The same 8-candidate grid (LSTM / GRU x 8 / 32 units x dropout 0 / 0.5) on the same data,
2 folds, searched three ways in one process each time (the run path, default parallel fits):
every candidate on every fold (`grid`), halving whose rounds give the survivors more
training rows (`samples`), and halving whose rounds give them more epochs (`epochs`).
Prints, per way and seed: fits, wall seconds of the whole run, the best candidate, its CV
macro-F1 and its held-out test macro-F1. With `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import SAMPLE, SPAM, load_texts  # noqa: E402

GRID = {"arch": ["lstm", "gru"], "units": [8, 32], "dropout_rate": [0.0, 0.5]}
WAYS = {
    "grid": ("grid", "samples"),
    "samples": ("halving", "samples"),
    "epochs": ("halving", "epochs"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()

    from lstm_core.api import Engine, ExperimentSpec
    from lstm_core.data.datasets import freeze_dataset
    from lstm_core.store.workspace import Workspace

    data = load_texts(Path(args.data))
    rows = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        dataset_id = freeze_dataset(Workspace(folder), data, "bench", "text", "label").id
        engine = Engine(folder)
        for seed in range(args.seeds):
            for way, (search, resource) in WAYS.items():
                spec = ExperimentSpec(
                    dataset_id,
                    params={"epochs": args.epochs},
                    grid=GRID,
                    search=search,
                    halving_resource=resource,
                    cv=2,
                    seed=seed,
                )
                started = time.perf_counter()
                run = engine.train(spec)
                seconds = time.perf_counter() - started
                result = engine.result(run.id)
                assert result is not None, run.error
                row = {
                    "seed": seed,
                    "fits": result.fits,
                    "seconds": round(seconds, 1),
                    "best": result.best_params,
                    "cv_macro_f1": round(result.cv_best_score, 4),
                    "test_macro_f1": round(result.test.macro_f1, 4),
                }
                rows[way].append(row)
                print(f"{way:<8} {json.dumps(row)}", flush=True)
    summary = {
        way: {
            "fits": found[0]["fits"],
            "median_seconds": round(statistics.median(r["seconds"] for r in found), 1),
            "median_test_macro_f1": statistics.median(r["test_macro_f1"] for r in found),
        }
        for way, found in rows.items()
    }
    for way in ("samples", "epochs"):
        summary[way]["time_vs_grid"] = round(
            summary[way]["median_seconds"] / summary["grid"]["median_seconds"], 2
        )
    if args.json:
        print(json.dumps({"data": Path(args.data).name, "runs": rows, "summary": summary}))
    else:
        for way, figures in summary.items():
            print(way, figures)


if __name__ == "__main__":
    main()
