"""How long a cancel takes: `python bench/cancel.py [--repeats N] [--json]` (Linux).

A background run as the dashboard starts it (LSTM and GRU x 2 folds on the bundled SMS
sample, two fit processes, far more epochs than it gets to) is cancelled as
`lstm-core cancel` does it, at two moments: while its worker starts (its pid recorded,
TensorFlow still loading) and while it trains (epochs in the store). Two figures each:
- cancelled_s: from the cancel to the run's status `cancelled` in the store;
- gone_s: from the cancel to the worker and every process under it (fit processes,
  multiprocessing's helpers) gone.
Each both on a quiet machine (nothing else of this script running) and on a busy one (a
CPU-bound process per core, started and stopped here); median and max of N repeats.
Workers do not stay warm (`LSTM_CORE_WARM_S=0`), so the worker leaves with its run. The
store is polled every 20 ms. With `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import SAMPLE, load_texts  # noqa: E402

EPOCHS = 400  # the run never gets there: it ends when cancelled
POLL_S = 0.02
LIMIT_S = 300.0  # a step that takes longer than this is a hang, not a figure
PHASES = ("starting", "training")


def descendants(pid: int) -> set[int]:
    """The processes under `pid`, read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def until(condition, what: str):
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise SystemExit(f"no {what} after {LIMIT_S:.0f} s")


@contextmanager
def busy_cores():
    """A CPU-bound process on every core while the block runs."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def one_cancel(workspace, spec, phase: str) -> tuple[float, float]:
    """Submit, cancel at `phase`; (cancelled_s, gone_s)."""
    from lstm_core.domain.entities import RunStatus
    from lstm_core.domain.processes import process_alive
    from lstm_core.jobs import queue

    store = workspace.store
    run_id = queue.submit(workspace, spec)
    worker = until(lambda: store.get_run(run_id).pid, "worker")
    if phase == "training":
        until(lambda: store.epochs(run_id), "epoch")
    watched = {worker} | descendants(worker)
    asked = time.monotonic()
    queue.cancel(workspace, run_id)
    cancelled_s = gone_s = None
    while cancelled_s is None or gone_s is None:
        now = time.monotonic() - asked
        if now > LIMIT_S:
            raise SystemExit(f"run {run_id} not cancelled and gone after {LIMIT_S:.0f} s")
        if process_alive(worker):
            watched |= descendants(worker)
        if cancelled_s is None and store.get_run(run_id).status != RunStatus.RUNNING:
            status = store.get_run(run_id).status
            if status != RunStatus.CANCELLED:
                raise SystemExit(f"run {run_id} ended {status}, not cancelled")
            cancelled_s = now
        if gone_s is None and not any(process_alive(pid) for pid in watched):
            gone_s = now
        time.sleep(POLL_S)
    return cancelled_s, gone_s


def summary(seconds: list[float]) -> dict:
    return {"median": round(statistics.median(seconds), 2), "max": round(max(seconds), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import pandas as pd

    os.environ["LSTM_CORE_HOME"] = tempfile.mkdtemp(prefix="bench-cancel-")
    os.environ["LSTM_CORE_WARM_S"] = "0"  # the worker leaves with its run
    from lstm_core.api import Engine, ExperimentSpec
    from lstm_core.store.workspace import Workspace

    data = load_texts(SAMPLE)
    frame = pd.DataFrame({"text": data.texts, "label": data.labels})
    dataset = Engine().freeze_dataset(frame, "text", "label", SAMPLE.name)[0]
    spec = ExperimentSpec(
        dataset.id,
        params={"units": 16, "embedding_dim": 16, "batch_size": 32, "epochs": EPOCHS},
        grid={"arch": ["lstm", "gru"]},
        cv=2,
        test_size=0.2,
        n_jobs=2,
    )
    workspace = Workspace()
    figures: dict = {"cores": os.cpu_count(), "repeats": args.repeats}
    for load in ("quiet", "busy"):
        with busy_cores() if load == "busy" else nullcontext():
            for phase in PHASES:
                runs = [one_cancel(workspace, spec, phase) for _ in range(args.repeats)]
                for index, name in enumerate(("cancelled_s", "gone_s")):
                    seconds = [run[index] for run in runs]
                    figures[f"{load}_{phase}_{name}"] = summary(seconds)
                    print(
                        f"{load}, cancelled while {phase}: {name} "
                        f"{' '.join(f'{s:.2f}' for s in seconds)}",
                        flush=True,
                    )
            # the 1-minute load average as the block ends (others may share the machine)
            figures[f"{load}_load_average"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
