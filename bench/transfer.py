"""What a starting point buys in the first epochs: `python bench/transfer.py [--json]`.

On each of two SMS spam sets (the bundled 1,500-text sample, and ../shared/data/spam.csv
where it exists) one LSTM (32 units, 32-dimensional embedding, one validation split,
seed 42, so the same held-out test split every time) is trained for 1, 2 and 3 epochs
from four starting points, through the run path:
- random: the embedding starts random (Keras' uniform -0.05..0.05);
- word2vec: the embedding starts from word2vec trained on the training split's texts
  (`--vectors self`), and keeps training;
- transfer, frozen embedding: the vectorizer, embedding and LSTM of a model trained (3
  epochs) on the *other* SMS set, the embedding frozen, the LSTM and a new head trained;
- transfer, all frozen: the same, only the new head trained;
- the same, then one fine-tune epoch with everything trainable at a tenth of the rate
  (so its "N epochs" are N + 1).
Prints the held-out macro-F1 for each, the trainable parameters and the wall seconds of
each run. With `--json` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import SAMPLE, SPAM, load_texts  # noqa: E402

MODEL = {"arch": "lstm", "units": 32, "embedding_dim": 32, "batch_size": 32}
STARTS = {
    "random": {},
    "word2vec": {"vectors": "self"},
    "transfer, frozen embedding": {"freeze": "embedding"},
    "transfer, all frozen": {"freeze": "all"},
    "transfer, all frozen, +1 fine-tune": {"freeze": "all", "fine_tune_epochs": 1},
}


def frozen_dataset(engine, path: Path):
    import pandas as pd

    data = load_texts(path)
    frame = pd.DataFrame({"text": data.texts, "label": data.labels})
    return engine.freeze_dataset(frame, "text", "label", path.name)[0]


def trained(engine, spec) -> tuple[object, float]:
    started = time.perf_counter()
    run = engine.train(spec)
    seconds = time.perf_counter() - started
    result = engine.result(run.id)
    assert result is not None, run.error
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--epochs", default="1,2,3")
    args = parser.parse_args()
    epochs = [int(e) for e in args.epochs.split(",")]

    from lstm_core.api import Engine, ExperimentSpec

    engine = Engine(Path(tempfile.mkdtemp(prefix="bench-transfer-")))
    sets = [p for p in (SAMPLE, SPAM) if p.exists()]
    datasets = {p.name: frozen_dataset(engine, p) for p in sets}
    report = {}
    for target in datasets:
        source = next((n for n in datasets if n != target), None)
        parent = None
        if source is not None:
            spec = ExperimentSpec(
                datasets[source].id, params={**MODEL, "epochs": 3}, cv=0, n_jobs=1
            )
            parent = engine.train(spec).id
        rows = report.setdefault(target, {})
        for name, start in STARTS.items():
            if "freeze" in start and parent is None:
                continue
            for n in epochs:
                spec = ExperimentSpec(
                    datasets[target].id,
                    params={**MODEL, "epochs": n},
                    cv=0,
                    n_jobs=1,
                    parent=parent if "freeze" in start else "",
                    **start,
                )
                result, seconds = trained(engine, spec)
                row = rows.setdefault(name, {})
                row[n] = {
                    "macro_f1": round(result.test.macro_f1, 4),
                    "trainable": result.parameters.trainable,
                    "seconds": round(seconds, 1),
                }
                print(
                    f"{target:<14} {name:<28} {n} epoch(s): macro-F1 "
                    f"{result.test.macro_f1:.3f}  trainable {result.parameters.trainable:>7,}  "
                    f"{seconds:5.1f} s",
                    flush=True,
                )
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
