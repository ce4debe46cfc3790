"""The same grid on this machine and on a two-worker Dask cluster: `python bench/cluster.py`.

A grid of 4 candidates (LSTM and GRU x 16 and 32 units, 2 epochs) with 2 folds and the
refit, 9 fits, on the bundled 1,500-text SMS sample (or `--data spam.csv`), trained in the
foreground three ways, each from a fresh start:
- local: two spawned fit processes (what the workbench does on this machine), twice (a
  foreground run starts its fit processes anew each time);
- cluster: a `LocalCluster` of two single-threaded worker processes on the loopback, its
  workers fresh (they import TensorFlow, as fit processes do);
- cluster again: the same run on the same, now warm, workers.
`overhead_ratio` = cluster wall / the mean of the two local walls (`overhead_ratio_warm`:
the cluster run again). Then what a fit costs to ship: the pickled bytes of the data a run
scatters once per worker and of one fit's task, the seconds of the scatter, and the median
round trip of a task that carries a fit's task and the scattered data but does no work
(20 tries). Both runs must reach the same test scores (same seed).
With `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import SAMPLE, load_texts  # noqa: E402

GRID = {"arch": ["lstm", "gru"], "units": [16, 32]}
FIXED = {"epochs": 2, "embedding_dim": 32, "batch_size": 32}
ROUND_TRIPS = 20


def spec_for(dataset_id: str, cluster: str = ""):
    from lstm_core.api import ExperimentSpec

    return ExperimentSpec(
        dataset_id, params=FIXED, grid=GRID, cv=2, test_size=0.2, n_jobs=2, cluster=cluster
    )


def timed_run(engine, spec) -> tuple[float, object]:
    started = time.perf_counter()
    run = engine.train(spec)
    seconds = time.perf_counter() - started
    result = engine.result(run.id)
    if result is None:
        raise SystemExit(f"run {run.id} ended {run.status.value}: {run.error}")
    return seconds, result


def nothing(task, shipped) -> int:
    """A task that does no work: what remains is the cost of sending a fit and its answer."""
    return len(task.fit_rows) + len(shipped.data.texts)


def shipping(address: str, texts, labels) -> dict:
    from distributed import Client

    from lstm_core.execution.dask_worker import ShippedData
    from lstm_core.execution.trial import TrainingData, TrialTask

    shipped = ShippedData(TrainingData(texts, labels), "tensorflow", {"127.0.0.1": 2})
    half = len(texts) // 2
    task = TrialTask(
        run_id="bench",
        candidate=0,
        round=0,
        fold=0,
        config={**FIXED, "arch": "lstm", "units": 32},
        fit_rows=np.arange(half),
        eval_rows=np.arange(half, len(texts)),
        scoring="f1_macro",
        seed=42,
    )
    with Client(address, set_as_default=False) as client:
        started = time.perf_counter()
        future = client.scatter(shipped, broadcast=True, hash=False)
        scatter_s = time.perf_counter() - started
        trips = []
        for n in range(ROUND_TRIPS):
            started = time.perf_counter()
            client.submit(nothing, task, future, key=f"nothing-{n}", pure=False).result()
            trips.append(time.perf_counter() - started)
    return {
        "data_bytes": len(pickle.dumps(shipped)),
        "task_bytes": len(pickle.dumps(task)),
        "scatter_s": round(scatter_s, 3),
        "fit_round_trip_ms": round(1000 * statistics.median(trips), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=SAMPLE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import os

    import pandas as pd
    from distributed import LocalCluster

    os.environ["LSTM_CORE_HOME"] = tempfile.mkdtemp(prefix="bench-cluster-")
    os.environ["LSTM_CORE_WARM_S"] = "0"  # every run from a fresh start, no warm worker
    from lstm_core.api import Engine

    data = load_texts(args.data)
    engine = Engine()
    frame = pd.DataFrame({"text": data.texts, "label": data.labels})
    dataset = engine.freeze_dataset(frame, "text", "label", args.data.name)[0]

    local_s, here = timed_run(engine, spec_for(dataset.id))
    print(f"local, 2 fit processes: {local_s:.1f} s, test macro-F1 {here.test.macro_f1:.3f}")
    local_again_s, _ = timed_run(engine, spec_for(dataset.id))
    print(f"local again (a foreground run starts its fit processes anew): {local_again_s:.1f} s")
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        cluster_s, there = timed_run(engine, spec_for(dataset.id, cluster.scheduler_address))
        print(f"cluster, 2 fresh workers: {cluster_s:.1f} s, macro-F1 {there.test.macro_f1:.3f}")
        again_s, _ = timed_run(engine, spec_for(dataset.id, cluster.scheduler_address))
        print(f"cluster again, warm workers: {again_s:.1f} s")
        shipped = shipping(cluster.scheduler_address, data.texts, data.labels)
    local_mean_s = (local_s + local_again_s) / 2
    figures = {
        "rows": len(data.texts),
        "fits": 9,
        "local_s": round(local_s, 1),
        "local_again_s": round(local_again_s, 1),
        "cluster_s": round(cluster_s, 1),
        "cluster_again_s": round(again_s, 1),
        "overhead_ratio": round(cluster_s / local_mean_s, 2),
        "overhead_ratio_warm": round(again_s / local_mean_s, 2),
        "same_scores": here.test.summary() == there.test.summary()
        and here.best_params == there.best_params,
        **shipped,
    }
    for name, value in shipped.items():
        print(f"{name}: {value}")
    print(f"overhead ratio {figures['overhead_ratio']} (warm {figures['overhead_ratio_warm']})")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
