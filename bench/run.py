"""Benchmark suite: `python bench/run.py [--quick] [--json]`.

Every ratio is taken within one run of this script (absolute times wander on shared
machines). Data: ../shared/data/spam.csv when present, else the bundled sample. With
`--json` the last line printed is one JSON object.

Figures:
- overhead_ratio: s/epoch of an LSTM fitted through lstm_core (the run path: pipeline,
  classifier shim, store callback) over a hand-written Keras fit on the same vectorized
  data, same model, batch size and batching (every batch padded to the run's length;
  medians of the epochs after the first);
- bucketing_ratio: s/epoch with the default length-bucketed batches over the same fit with
  every batch padded to the run's length;
- length_policy_ratio: s/epoch with the defaults (length from the data, length buckets)
  over padding every text to the longest;
- parallel_speedup: a 4-candidate x 2-fold grid at the default epochs, run as a run is run
  (a warm worker; `_cold`: a fresh worker process), default parallelism vs one fit at a
  time; run_speedup: the same for the whole run (refit, evaluation and bundle included);
  search_fit_speedup: the same for the search's fits alone, once the fit processes are up;
- first_epoch_s: submit to the first epoch in the store, default design, a warm worker
  waiting (also cold, and the same design again: first_epoch_cold_s, first_epoch_again_s),
  with each whole run (run_*_s); with JAX installed the same on Keras' JAX backend (jax_*)
  and jax_run_ratio: the warm default run on JAX over the same on TensorFlow;
- predict_p95_ms (one sentence, warm bundle) and predict_1000_s (1,000 sentences);
- the felt figures quiet and while both cores train a run of a second workspace
  (bench/busy.py, in a real Chromium against `streamlit run app.py`): first_epoch_s /
  first_epoch_busy_s (Launch to the first epoch, the dashboard's warm worker; these replace
  the quiet first_epoch_s above, so quiet and busy come from the same dashboard),
  predict_type_p95_ms / predict_type_busy_p95_ms (the last keystroke to the label on
  Predict), page_switch_p95_s / page_switch_busy_p95_s (a click in the sidebar until the
  page has finished drawing), new_tab_busy_s (a new tab on a training run to its first
  chart);
- classroom_ratio: the workbench's wall time over the classroom script's for the same
  grid, with both test macro-F1 (bench/classroom.py; `--quick`: a 1,500-text sample);
- home_import_s: importing what the home page needs, in a fresh interpreter;
- flops_fraction_padded / _bucketed / _real: training FLOP/s of an LSTM epoch (3 x 8H(E+H)
  per token) over the machine's float32 matmul FLOP/s, counted on the padded epoch's tokens,
  on the tokens the default bucketed batches hold, and on real tokens in the default epoch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import (  # noqa: E402
    BATCH,
    EMBEDDING,
    ROOT,
    SAMPLE,
    SPAM,
    UNITS,
    hand_written_epochs,
    load_texts,
    matmul_flops,
    steady,
    workbench_fit,
)


def parallel_speedup(dataset_texts, epochs: int) -> dict:
    """The same grid run one fit at a time and with the default parallel fits, the way the
    dashboard runs it: by a warm worker, and (`*_cold`) by a fresh worker per run.

    Grid wall time is from submit (cold: from starting the worker process, TensorFlow's
    import included) to the end of the last cross-validation fit; run wall time goes on to
    the refit, the test evaluation and the saved bundle. A warm worker is first warmed, for
    each mode, by a run of the same grid with another seed (so no model is kept for the
    measured run: only the processes are warm).
    """
    from lstm_core.data.datasets import freeze_dataset
    from lstm_core.domain.spec import ExperimentSpec
    from lstm_core.execution.training import submit_run
    from lstm_core.jobs import queue, standby
    from lstm_core.store.workspace import HOME_VARIABLE, Workspace

    figures = {}
    before = {name: os.environ.get(name) for name in (HOME_VARIABLE, standby.WARM_VARIABLE)}
    for warm in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            os.environ[HOME_VARIABLE] = folder
            os.environ[standby.WARM_VARIABLE] = "120" if warm else "0"
            workspace = Workspace(folder)
            dataset_id = freeze_dataset(workspace, dataset_texts, "bench", "text", "label").id
            for name, n_jobs in (("serial", 1), ("default", 0)):
                suffix = "" if warm else "_cold"
                spec = ExperimentSpec(
                    dataset_id,
                    params={"epochs": epochs},
                    grid={"arch": ["lstm", "gru"], "units": [16, 32]},
                    cv=2,
                    n_jobs=n_jobs,
                )
                if warm:
                    _wait_for_end(workspace, queue.submit(workspace, replace(spec, seed=7)))
                    launched = time.time()
                    run = _wait_for_end(workspace, queue.submit(workspace, spec))
                else:
                    run_id = submit_run(workspace, spec)
                    launched = time.time()
                    subprocess.run(
                        [sys.executable, "-m", "lstm_core.jobs.worker", run_id],
                        cwd=ROOT,
                        capture_output=True,
                        check=True,
                    )
                    run = workspace.store.get_run(run_id)
                assert run.status == "completed", run.error
                fits = [t for t in workspace.store.trials(run.id) if not t.is_refit]
                grid_end = max(t.finished_at for t in fits)
                figures[f"grid_{name}{suffix}_s"] = round(grid_end - launched, 1)
                figures[f"run_{name}{suffix}_s"] = round(run.finished_at - launched, 1)
                figures[f"search_fit_{name}{suffix}_s"] = round(
                    grid_end - min(t.started_at for t in fits), 1
                )
                figures[f"fit_processes_{name}{suffix}"] = len({t.pid for t in fits})
            standby.stop(workspace)
    _restore(before)
    for suffix in ("", "_cold"):
        for figure, part in (("parallel", "grid"), ("run", "run"), ("search_fit", "search_fit")):
            figures[f"{figure}_speedup{suffix}"] = round(
                figures[f"{part}_serial{suffix}_s"] / figures[f"{part}_default{suffix}_s"], 2
            )
    return figures


def _wait_for_end(workspace, run_id: str):
    while (run := workspace.store.get_run(run_id)).status.active:
        time.sleep(0.05)
    return run


def _restore(environment: dict) -> None:
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


CLASSROOM_QUICK_ROWS = 1500  # the whole spam.csv takes the classroom recipe most of an hour
THINK_S = 15.0  # the browser test's person took 14 s from opening the app to Launch


def first_epoch(dataset_texts, backend: str = "tensorflow") -> dict:
    """Seconds from submit to the first epoch in the store, for the default design, the way
    the dashboard runs it: cold (no warm worker: a worker and its fit processes start and
    import TensorFlow), warm (a warm worker started as the dashboard opened, `THINK_S`
    before Launch) and the same design again (the warm worker's processes keep its model).
    Also each whole run (submit to result) and its median epoch; fits on `backend`.
    """
    from lstm_core.data.datasets import freeze_dataset
    from lstm_core.domain.spec import ExperimentSpec
    from lstm_core.jobs import queue, standby
    from lstm_core.models.backend import BACKEND_VARIABLE
    from lstm_core.store.workspace import HOME_VARIABLE, Workspace

    figures = {}
    names = (HOME_VARIABLE, standby.WARM_VARIABLE, BACKEND_VARIABLE)
    before = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory() as folder:
        os.environ[HOME_VARIABLE] = folder
        os.environ[BACKEND_VARIABLE] = backend
        workspace = Workspace(folder)
        spec = ExperimentSpec(freeze_dataset(workspace, dataset_texts, "bench", "text", "label").id)
        try:
            for mode in ("cold", "warm", "again"):
                os.environ[standby.WARM_VARIABLE] = "0" if mode == "cold" else "120"
                if mode == "warm":
                    queue.refresh(workspace)  # what opening the dashboard does
                    time.sleep(THINK_S)
                submitted = time.time()
                run_id = queue.submit(workspace, spec)
                while not workspace.store.epochs(run_id):
                    time.sleep(0.02)
                figures[f"first_epoch_{mode}_s"] = round(time.time() - submitted, 2)
                run = _wait_for_end(workspace, run_id)
                assert run.status == "completed", run.error
                figures[f"run_{mode}_s"] = round(run.finished_at - submitted, 1)
                result = workspace.store.get_result(run_id)
                figures[f"median_epoch_{mode}_s"] = result.median_epoch_seconds
                figures[f"test_macro_f1_{mode}"] = round(result.test.macro_f1, 4)
        finally:
            standby.stop(workspace)
            _restore(before)
    if backend != "tensorflow":
        return {f"{backend}_{name}": value for name, value in figures.items()}
    figures["first_epoch_s"] = figures["first_epoch_warm_s"]
    return figures


def home_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import streamlit, dashboard.widgets; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer epochs and repeats, the classroom peer on a sample (about 11 minutes)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()
    epochs = 6 if args.quick else 10
    figures: dict = {
        "data": Path(args.data).name,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "quick": args.quick,
    }
    data = load_texts(Path(args.data))
    labels = data.labels.astype(str)
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])

    ours, bundle, _ = workbench_fit(data.texts, labels, epochs)
    padded, _, _ = workbench_fit(data.texts, labels, epochs, length_buckets=False)
    vectorizer = bundle.vectorizer
    x = vectorizer.transform(data.texts)
    hand = hand_written_epochs(x, y, len(classes), epochs)
    figures["epoch_s_workbench"] = round(steady(ours), 3)
    figures["epoch_s_workbench_padded"] = round(steady(padded), 3)
    figures["epoch_s_hand_written"] = round(steady(hand), 3)
    figures["overhead_ratio"] = round(steady(padded) / steady(hand), 3)
    figures["bucketing_ratio"] = round(steady(ours) / steady(padded), 3)

    longest, _, _ = workbench_fit(
        data.texts,
        labels,
        max(2, epochs // 2),
        sequence_length=vectorizer.longest_,
        length_buckets=False,
    )
    figures["sequence_length_auto"] = vectorizer.sequence_length_
    figures["sequence_length_longest"] = vectorizer.longest_
    figures["epoch_s_longest"] = round(steady(longest), 3)
    figures["length_policy_ratio"] = round(steady(ours) / steady(longest), 3)

    from lstm_core.models.batching import padded_tokens, plan_batches, text_lengths

    peak = matmul_flops()
    per_token = 3 * 8 * UNITS * (EMBEDDING + UNITS)
    train_rows = int(len(x) * 0.9)  # the default validation split is not trained on
    lengths = text_lengths(x[:train_rows])
    tokens = {
        "padded": (train_rows * x.shape[1], steady(padded)),
        "bucketed": (
            padded_tokens(lengths, plan_batches(lengths, BATCH, np.random.default_rng(0))),
            steady(ours),
        ),
        "real": (int(lengths.sum()), steady(ours)),
    }
    figures["matmul_gflops"] = round(peak / 1e9, 1)
    for name, (count, seconds) in tokens.items():
        figures[f"flops_fraction_{name}"] = round(per_token * count / seconds / peak, 5)

    bundle.predict(["warm up"])
    timings = []
    for i in range(50 if args.quick else 200):
        start = time.perf_counter()
        bundle.predict([f"Free entry number {i} to win a prize, text now"])
        timings.append((time.perf_counter() - start) * 1000)
    figures["predict_p50_ms"] = round(float(np.percentile(timings, 50)), 2)
    figures["predict_p95_ms"] = round(float(np.percentile(timings, 95)), 2)
    batch = list(data.texts[:1000])
    start = time.perf_counter()
    bundle.predict(batch)
    figures["predict_1000_s"] = round(time.perf_counter() - start, 3)

    from lstm_core.domain.hyperparams import defaults

    figures.update(first_epoch(data))
    if importlib.util.find_spec("jax") is not None:
        figures.update(first_epoch(data, "jax"))
        figures["jax_run_ratio"] = round(figures["jax_run_warm_s"] / figures["run_warm_s"], 2)
    figures.update(parallel_speedup(data, epochs=defaults()["epochs"]))
    figures["home_import_s"] = round(home_import_seconds(), 2)
    import busy
    import classroom

    figures.update(busy.measure(quick=args.quick))
    figures.update(classroom.measure(Path(args.data), CLASSROOM_QUICK_ROWS if args.quick else None))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
