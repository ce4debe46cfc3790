"""Length bucketing, measured: `python bench/bucketing.py [--epochs N]`.

The same LSTM (or GRU) trained on the same vectorized texts two ways, in one process:
every batch padded to the run's sequence length (what runs do), or batches drawn from
texts of similar length and padded only to their own longest text. Prints the tokens
each epoch steps through, the median seconds per epoch after the first, and the held-out
macro-F1 each way (length-sorted batches can be class-skewed: spam is longer than ham).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BATCH, SAMPLE, SPAM, UNITS, load_texts, steady  # noqa: E402

CHUNK_BATCHES = 50  # sort by length within random chunks of this many batches


def bucketed_batches(lengths: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), BATCH * CHUNK_BATCHES):
        chunk = order[start : start + BATCH * CHUNK_BATCHES]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH)]
    rng.shuffle(batches)
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--arch", default="lstm")
    parser.add_argument("--data", default=str(SPAM if SPAM.exists() else SAMPLE))
    args = parser.parse_args()

    import keras
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from lstm_core.model_zoo import build_model
    from lstm_core.vectorizer import SequenceVectorizer

    data = load_texts(Path(args.data))
    classes = sorted(set(data.labels.astype(str)))
    labels = np.array([classes.index(v) for v in data.labels.astype(str)], dtype="int32")
    texts_train, texts_test, y, y_test = train_test_split(
        data.texts, labels, test_size=0.2, stratify=labels, random_state=0
    )
    vectorizer = SequenceVectorizer().fit(texts_train)
    x = vectorizer.transform(texts_train).astype("int32")
    x_test = vectorizer.transform(texts_test).astype("int32")
    lengths = np.maximum((x != 0).sum(axis=1), 1)

    class Buckets(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(0)
            self.batches = bucketed_batches(lengths, self.rng)

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, i):
            rows = self.batches[i]
            return x[rows, : lengths[rows].max()], y[rows]

        def on_epoch_end(self):
            self.batches = bucketed_batches(lengths, self.rng)

    def seconds_per_epoch(fit_one_epoch) -> float:
        times = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            fit_one_epoch()
            times.append(time.perf_counter() - start)
        return steady(times)

    def held_out_f1(model) -> float:
        predicted = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)
        return f1_score(y_test, predicted, average="macro")

    keras.utils.set_random_seed(0)
    padded = build_model(args.arch, n_classes=len(classes), sequence_length=x.shape[1], units=UNITS)
    padded_s = seconds_per_epoch(
        lambda: padded.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
    )
    keras.utils.set_random_seed(0)
    free = build_model(args.arch, n_classes=len(classes), sequence_length=None, units=UNITS)
    buckets = Buckets()
    bucketed_s = seconds_per_epoch(lambda: free.fit(buckets, epochs=1, verbose=0))
    bucketed_tokens = sum(int(lengths[b].max()) * len(b) for b in buckets.batches)
    print(
        f"{args.arch}: padded to {x.shape[1]}: {x.size:,} tokens, {padded_s:.2f} s/epoch, "
        f"held-out macro-F1 {held_out_f1(padded):.3f} after {args.epochs} epochs"
    )
    print(
        f"{args.arch}: bucketed: {bucketed_tokens:,} tokens, {bucketed_s:.2f} s/epoch, "
        f"held-out macro-F1 {held_out_f1(free):.3f}"
    )
    print(
        f"bucketed / padded: tokens {bucketed_tokens / x.size:.2f}, time {bucketed_s / padded_s:.2f}"
    )


if __name__ == "__main__":
    main()
