"""The classroom peer: `python bench/classroom.py [--rows N] [--json] [--data PATH]`.

What a student would otherwise run is the course's seed recipe: a vocabulary of the 2,000
most frequent words (Keras-Tokenizer style: lower case, punctuation dropped, unknown words
dropped), every text pre-padded to the longest one, `Embedding(2000, 128)` ->
`LSTM(196, dropout=0.2, recurrent_dropout=0.2)` -> softmax, wrapped in scikeras'
`KerasClassifier` and searched with scikit-learn's `GridSearchCV` over batch size (32, 64)
x epochs (1, 2) with 2 folds, then refitted on the best. The workbench runs the same grid
with the same layer sizes, dropout and vocabulary, and its own defaults for length (cut
from the data) and batching (length buckets), the way the dashboard runs a run: a worker
process (a fresh one, so that both sides pay their imports).

Both are scored on the same held-out rows (the workbench's split). Reported:
`classroom_wall_s` (a fresh `python` process doing what the script does: import, prepare,
search, refit, predict), `workbench_wall_s` (worker start to completed run),
`classroom_ratio` = workbench / classroom, and both test macro-F1. `--rows` takes a
stratified sample first (the full spam.csv takes the classroom recipe most of an hour on
two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPAM = ROOT.parent / "shared" / "data" / "spam.csv"
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"
VOCABULARY, EMBEDDING, UNITS, DROPOUT = 2000, 128, 196, 0.2
GRID = {"batch_size": [32, 64], "epochs": [1, 2]}
FOLDS = 2
FILTERS = re.compile(r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~\t\n]")


def classroom(task: dict) -> dict:
    """The seed recipe, as a student's script runs it (called in a fresh process)."""
    import keras
    from scikeras.wrappers import KerasClassifier
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GridSearchCV

    texts, labels = np.array(task["texts"], dtype=object), np.array(task["labels"])
    train, test = np.array(task["train"]), np.array(task["test"])
    words = [FILTERS.sub(" ", str(t).lower()).split() for t in texts]
    counts = Counter(w for i in train for w in words[i])
    index = {w: i + 1 for i, (w, _) in enumerate(counts.most_common(VOCABULARY - 1))}
    sequences = [[index[w] for w in text if w in index] for text in words]
    longest = max(len(s) for s in sequences)
    x = keras.utils.pad_sequences(sequences, maxlen=longest, padding="pre")
    classes = sorted(set(labels.tolist()))
    y = np.array([classes.index(v) for v in labels])

    def build():
        model = keras.Sequential(
            [
                keras.Input(shape=(longest,)),
                keras.layers.Embedding(VOCABULARY, EMBEDDING),
                keras.layers.LSTM(UNITS, dropout=DROPOUT, recurrent_dropout=DROPOUT),
                keras.layers.Dense(len(classes), activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    keras.utils.set_random_seed(task["seed"])
    search = GridSearchCV(KerasClassifier(model=build, verbose=0), GRID, cv=FOLDS)
    search.fit(x[train], y[train])
    predicted = search.predict(x[test])
    return {
        "classroom_best": search.best_params_,
        "classroom_macro_f1": round(float(f1_score(y[test], predicted, average="macro")), 4),
        "classroom_longest_tokens": int(longest),
    }


def _sample(data, rows: int | None, seed: int):
    """A stratified sample of `rows` texts (all of them when None)."""
    from lstm_core.data.datasets import LabelledTexts

    if rows is None or rows >= len(data.texts):
        return data
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(data.texts)), train_size=rows, stratify=data.labels, random_state=seed
    )
    keep = np.sort(keep)
    labels = data.labels[keep]
    values, counts = np.unique(labels.astype(str), return_counts=True)
    return LabelledTexts(
        data.texts[keep], labels, dict(zip(values.tolist(), counts.tolist(), strict=True))
    )


def measure(data_path: Path, rows: int | None = None) -> dict:
    from lstm_core.data.datasets import freeze_dataset
    from lstm_core.data.intake import read_path
    from lstm_core.data.validation import select_columns
    from lstm_core.domain.spec import ExperimentSpec
    from lstm_core.execution.run_loop import holdout_split
    from lstm_core.execution.training import submit_run
    from lstm_core.jobs.standby import WARM_VARIABLE
    from lstm_core.store.workspace import HOME_VARIABLE, Workspace

    frame, report = read_path(str(data_path))
    data = select_columns(frame, report.suggested_text, report.suggested_label, 2, 0.2)
    data = _sample(data, rows, seed=0)
    figures: dict = {"classroom_rows": len(data.texts)}
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace(folder)
        dataset_id = freeze_dataset(workspace, data, "classroom", "text", "label").id
        spec = ExperimentSpec(
            dataset_id,
            params={
                "units": UNITS,
                "embedding_dim": EMBEDDING,
                "dropout_rate": DROPOUT,
                "recurrent_dropout": DROPOUT,
                "max_tokens": VOCABULARY,
            },
            grid=GRID,
            cv=FOLDS,
        )
        labels = data.labels.astype(str).astype(object)
        train, test = holdout_split(spec, labels)
        task = {
            "texts": [str(t) for t in data.texts],
            "labels": labels.tolist(),
            "train": train.tolist(),
            "test": test.tolist(),
            "seed": spec.seed,
        }
        task_file, answer_file = Path(folder) / "task.json", Path(folder) / "answer.json"
        task_file.write_text(json.dumps(task), encoding="utf-8")
        started = time.time()
        subprocess.run(
            [sys.executable, __file__, "--classroom-only", str(task_file), str(answer_file)],
            cwd=ROOT,
            check=True,
        )
        figures["classroom_wall_s"] = round(time.time() - started, 1)
        figures.update(json.loads(answer_file.read_text(encoding="utf-8")))

        run_id = submit_run(workspace, spec)
        started = time.time()
        subprocess.run(
            [sys.executable, "-m", "lstm_core.jobs.worker", run_id],
            cwd=ROOT,
            env={**os.environ, HOME_VARIABLE: folder, WARM_VARIABLE: "0"},
            capture_output=True,
            check=True,
        )
        run = workspace.store.get_run(run_id)
        assert run.status == "completed", run.error
        result = workspace.store.get_result(run_id)
        figures["workbench_wall_s"] = round(run.finished_at - started, 1)
        figures["workbench_best"] = result.best_params
        figures["workbench_macro_f1"] = round(result.test.macro_f1, 4)
        figures["workbench_sequence_length"] = result.sequence_length
    figures["classroom_ratio"] = round(figures["workbench_wall_s"] / figures["classroom_wall_s"], 3)
    return figures


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--classroom-only":
        task = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
        Path(sys.argv[3]).write_text(json.dumps(classroom(task)), encoding="utf-8")
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, help="a stratified sample of this many texts")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()
    figures = measure(Path(args.data), args.rows)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
