"""Grid, random, TPE and Gaussian-process search over one space, and what pruning saves:
`python bench/bayesian.py [--seeds K] [--budget N] [--json]`.

Part 1: the same 12-point space (LSTM / GRU x 8 / 32 units x learning rate 0.0003 / 0.003
/ 0.03; 2 epochs, 2 folds) searched four ways per seed on the same data through the run
path (default parallel fits): the whole grid, and `--budget` candidates each of random,
TPE and GP (which see the same values as choices). Prints each run's best CV macro-F1
after every candidate (in the order tried), its fits and wall seconds.

Part 2: TPE over ranges (learning rate 1e-5 to 0.1, log; units 4 to 64, log; 4 epochs,
2 folds, 8 candidates) without and with the median pruner, same seed: wall seconds,
epochs trained, pruned candidates and the best CV score. With `--json` the last line is
one JSON object.
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

SPACE = {"arch": ["lstm", "gru"], "units": [8, 32], "learning_rate": [0.0003, 0.003, 0.03]}
WAYS = ("grid", "random", "tpe", "gp")
PRUNE_RANGES = {"learning_rate": [1e-5, 0.1, True], "units": [4, 64, True]}


def best_so_far(engine, run_id: str) -> list[float]:
    """The best mean CV score after each candidate, in the order the search tried them."""
    scores = {c.candidate: c.mean_score for c in engine.candidates(run_id)}
    trials = sorted({t.candidate for t in engine.trials(run_id) if not t.is_refit})
    curve, best = [], float("-inf")
    for number in trials:
        best = max(best, scores.get(number, float("-inf")))  # pruned: no score
        curve.append(round(best, 4))
    return curve


def timed_run(engine, spec) -> tuple[object, float]:
    started = time.perf_counter()
    run = engine.train(spec)
    seconds = time.perf_counter() - started
    assert engine.result(run.id) is not None, run.error
    return run, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=6)
    parser.add_argument("--prune-seeds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()

    from lstm_core.api import Engine, ExperimentSpec, TrialStatus
    from lstm_core.data.datasets import freeze_dataset
    from lstm_core.store.workspace import Workspace

    data = load_texts(Path(args.data))
    searches: dict[str, list] = {way: [] for way in WAYS}
    pruning: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        dataset_id = freeze_dataset(Workspace(folder), data, "bench", "text", "label").id
        engine = Engine(folder)
        for seed in range(args.seeds):
            for way in WAYS:
                spec = ExperimentSpec(
                    dataset_id,
                    params={"epochs": 2, "embedding_dim": 16},
                    grid=SPACE,
                    search=way,
                    n_iter=args.budget,
                    cv=2,
                    seed=seed,
                )
                run, seconds = timed_run(engine, spec)
                result = engine.result(run.id)
                row = {
                    "seed": seed,
                    "fits": result.fits,
                    "seconds": round(seconds, 1),
                    "best_so_far": best_so_far(engine, run.id),
                    "best": result.best_params,
                    "test_macro_f1": round(result.test.macro_f1, 4),
                }
                searches[way].append(row)
                print(f"{way:<6} {json.dumps(row)}", flush=True)
        for seed in range(args.prune_seeds):
            for prune in ("none", "median"):
                spec = ExperimentSpec(
                    dataset_id,
                    params={"epochs": 4, "embedding_dim": 16},
                    ranges=PRUNE_RANGES,
                    search="tpe",
                    n_iter=8,
                    prune=prune,
                    cv=2,
                    seed=seed,
                )
                run, seconds = timed_run(engine, spec)
                trials = engine.trials(run.id)
                row = {
                    "seed": seed,
                    "prune": prune,
                    "seconds": round(seconds, 1),
                    "epochs_trained": len(engine.epochs(run.id)),
                    "pruned": sorted(
                        {t.candidate for t in trials if t.status == TrialStatus.PRUNED}
                    ),
                    "cv_best": round(engine.result(run.id).cv_best_score, 4),
                }
                pruning.append(row)
                print(f"prune  {json.dumps(row)}", flush=True)
    summary = {
        way: {
            "fits": rows[0]["fits"],
            "median_seconds": round(statistics.median(r["seconds"] for r in rows), 1),
            "mean_best_cv": round(statistics.fmean(r["best_so_far"][-1] for r in rows), 4),
            f"mean_best_cv_after_{args.budget}": round(
                statistics.fmean(r["best_so_far"][: args.budget][-1] for r in rows), 4
            ),
        }
        for way, rows in searches.items()
    }
    if pruning:
        by = {(r["seed"], r["prune"]): r for r in pruning}
        summary["pruning_time_ratio"] = round(
            statistics.fmean(
                by[(s, "median")]["seconds"] / by[(s, "none")]["seconds"]
                for s in range(args.prune_seeds)
            ),
            2,
        )
    if args.json:
        print(json.dumps({"data": Path(args.data).name, "searches": searches,
                          "pruning": pruning, "summary": summary}))  # fmt: skip
    else:
        for way, figures in summary.items():
            print(way, figures)


if __name__ == "__main__":
    main()
