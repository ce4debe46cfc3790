"""Length bucketing, measured: `python bench/bucketing.py [--epochs N] [--seeds K]`.

The same model trained through the run path (pipeline, classifier shim, store) on the same
training split, two ways, in one process: every batch padded to the run's sequence length,
or length-bucketed batches (the default). Prints the token slots each epoch steps through,
the median seconds per epoch after the first, and the held-out macro-F1 for each seed
(length-sorted batches lean to one class: spam is longer than ham).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fits import BATCH, SAMPLE, SPAM, load_texts, steady, workbench_fit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--arch", default="lstm")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()

    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from lstm_core.models.batching import padded_tokens, plan_batches, text_lengths

    data = load_texts(Path(args.data))
    labels = data.labels.astype(str)
    texts_train, texts_test, y_train, y_test = train_test_split(
        data.texts, labels, test_size=0.2, stratify=labels, random_state=0
    )
    seconds, f1 = {False: [], True: []}, {False: [], True: []}
    for seed in range(args.seeds):
        for buckets in (False, True):
            epochs, bundle, proba = workbench_fit(
                texts_train,
                y_train,
                args.epochs,
                seed,
                held_out=texts_test,
                arch=args.arch,
                length_buckets=buckets,
            )
            seconds[buckets].append(steady(epochs))
            predicted = np.asarray(bundle.labels)[proba.argmax(axis=1)]
            f1[buckets].append(f1_score(y_test, predicted, average="macro"))
    x = bundle.vectorizer.transform(texts_train)
    lengths = text_lengths(x)
    bucketed = padded_tokens(lengths, plan_batches(lengths, BATCH, np.random.default_rng(0)))
    for buckets, name in ((False, f"padded to {x.shape[1]}"), (True, "bucketed")):
        tokens = bucketed if buckets else x.size
        scores = ", ".join(f"{v:.3f}" for v in f1[buckets])
        print(
            f"{args.arch} {name}: {tokens:,} token slots, "
            f"{statistics.median(seconds[buckets]):.2f} s/epoch, held-out macro-F1 {scores} "
            f"after {args.epochs} epochs (seeds 0-{args.seeds - 1})"
        )
    ratio = statistics.median(a / b for a, b in zip(seconds[True], seconds[False], strict=True))
    print(f"bucketed / padded: token slots {bucketed / x.size:.2f}, time {ratio:.2f}")


if __name__ == "__main__":
    main()
