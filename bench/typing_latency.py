"""Predict while typing: `python bench/typing_latency.py [--full] [--json]`.

What a person feels on the Predict page: milliseconds from the last keystroke of a typed
sentence until its label is on screen, in a real Chromium against `streamlit run app.py`,
with the model already loaded (one sentence typed first). The page waits for a pause in
typing (`pages/predict.py`, `TYPING_PAUSE`) before it predicts, so the figure includes
that pause; `predict_type_after_pause_*` leaves it out. Sentences are texts of the bundled
SMS sample whose predicted labels alternate, typed 30 ms per key, replacing the last one.
The model is a small LSTM trained here on that sample (a temporary workspace).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"


def measure(quick: bool = True) -> dict:
    import pandas as pd
    from browser import alternating_sentences, chromium, dashboard, typed_label_latencies

    from lstm_core.api import Engine, ExperimentSpec, RunStatus
    from lstm_core.jobs.standby import WARM_VARIABLE

    # No warm worker: its TensorFlow imports would share the two cores with the typing.
    os.environ[WARM_VARIABLE] = "0"

    pause_ms = float(_typing_pause().removesuffix("ms"))
    n = 12 if quick else 40
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "ws"
        engine = Engine(home)
        frame = pd.read_csv(SAMPLE, encoding="latin-1")  # like Kaggle's spam.csv
        dataset, _ = engine.freeze_dataset(frame, "message", "label", "sms_spam.csv")
        params = {"units": 16, "embedding_dim": 16, "epochs": 3}
        run = engine.train(ExperimentSpec(dataset.id, params=params, cv=0, n_jobs=1))
        assert run.status == RunStatus.COMPLETED, run.error
        sentences, labels = alternating_sentences(
            lambda batch: engine.predict(run.id, batch), frame["message"].tolist(), n + 1
        )
        with dashboard(home, Path(folder) / "server.log") as url, chromium() as new_tab:
            page = new_tab()
            page.goto(f"{url}/predict?run={run.id}")
            typed_label_latencies(page, sentences[:1], labels[:1])  # the model loads
            seconds = typed_label_latencies(page, sentences[1:], labels[1:])
    ms = np.array(seconds) * 1000
    return {
        "predict_type_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "predict_type_p95_ms": round(float(np.percentile(ms, 95)), 1),
        "predict_type_after_pause_p95_ms": round(float(np.percentile(ms, 95)) - pause_ms, 1),
        "predict_type_pause_ms": pause_ms,
        "predict_type_sentences": len(seconds),
    }


def _typing_pause() -> str:
    """The page's own pause setting, read from its source (importing a page runs it)."""
    source = (ROOT / "pages" / "predict.py").read_text(encoding="utf-8")
    line = next(s for s in source.splitlines() if s.startswith("TYPING_PAUSE ="))
    return line.split("=", 1)[1].split("#")[0].strip().strip("\"'")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="40 sentences instead of 12")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(quick=not args.full)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
