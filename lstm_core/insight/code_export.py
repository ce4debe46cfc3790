"""A finished run as the Python script a student would write in class: plain Keras for the
model, scikeras to make it a scikit-learn classifier, scikit-learn for the split and the
scores, and about forty lines of text preparation, with the run's best configuration
filled in.

`python FILE.py DATA.csv` (`DATA.jsonl`, `DATA.xlsx`, ... as the run's file was) trains
that configuration on the file (the run's text and label columns) and prints, last, one JSON line with `accuracy` and `macro_f1` on a held-out
split. It does not reuse the workbench, so it shows what the workbench does for you; and
it says so when the run started from a saved model or from word vectors, which a plain
script does not repeat.

The file is read as the workbench read the run's dataset (its `Reading`: format,
encoding, delimiter, quoting, header, packing), written in as plain arguments, so the
script trains on the same rows; the repairs the workbench makes after reading (blank
rows, column names, text spilled over at an unquoted delimiter, mojibake) are written out
as a few lines of their own.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pprint import pformat

from lstm_core.data.markup import ENTITY_PATTERN, TAG_PATTERN
from lstm_core.data.reading import Reading
from lstm_core.data.repeats import LINK, grouped_split, normalised, repeat_groups
from lstm_core.domain.architectures.registry import architecture
from lstm_core.domain.entities import Run, RunResult
from lstm_core.domain.hyperparams import defaults
from lstm_core.insight.export_reading import (
    data_name,
    in_docstring,
    modules,
    reading_code,
    repairs_mojibake,
)
from lstm_core.insight.export_tokens import token_code

TEMPLATE = '''"""Run {run_id} of the RNN text workbench, as a plain script.

Trains the run's best configuration{found} on its data file and prints, last, a JSON line
with the accuracy and macro-F1 on a held-out {test_share:.0%} of it:

    python {shown_name} {data_name}
{note}"""

{stdlib_imports}

{ftfy_import}import keras
import numpy as np
import pandas as pd
from scikeras.wrappers import KerasClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
{tokenizers_import}
TEXT_COLUMN, LABEL_COLUMN = {text_column!r}, {label_column!r}
SEED, TEST_SHARE = {seed!r}, {test_share!r}
CONFIG = {config}
INITIALIZERS = {{"uniform": "random_uniform", "normal": "random_normal", "zero": "zeros"}}
TAG = re.compile({tag_pattern!r}, re.DOTALL)  # <br />, <a href="...">, </p>; not "<3"
ENTITY = re.compile({entity_pattern!r})  # &amp; &#39; &quot;{reading_constants}{split_constants}


{reading_functions}


def read(path):
    """The run's two columns as the workbench kept them: rows without a text or a label
    left out, labels stripped."""
    frame = read_table(path)[[TEXT_COLUMN, LABEL_COLUMN]].copy()
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].str.strip()
    return frame[(frame[TEXT_COLUMN].str.strip() != "") & (frame[LABEL_COLUMN] != "")]


{split_functions}


def strip_html(text):
    """Entities unescaped (&amp; -> &), then each HTML tag replaced by a space."""
    text = ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return TAG.sub(" ", text)


{tokenize_functions}


def fit_vocabulary(texts, length):
    """Id 0 pads, 1 is an unknown word; the most frequent words of the training texts
    get the next ids."""
    counts = {{}}
    for text in texts:
        for token in tokenize(text)[:length]:
            counts[token] = counts.get(token, 0) + 1
    ranked = sorted(counts, key=lambda t: (-counts[t], t))[: CONFIG["max_tokens"] - 2]
    return {{token: i + 2 for i, token in enumerate(ranked)}}


def to_ids(texts, vocabulary, length):
    """Each text as `length` ids, padded with 0 at the end (the embedding masks them)."""
    ids = np.zeros((len(texts), length), dtype="int32")
    for row, text in enumerate(texts):
        tokens = [vocabulary.get(t, 1) for t in tokenize(text)[:length]] or [1]
        ids[row, : len(tokens)] = tokens
    return ids


{best_epoch}def build_model(meta, vocabulary_size):
    """Embedding{masking} -> {architecture} -> optional dense -> softmax."""
    init = INITIALIZERS.get(CONFIG["init_mode"], CONFIG["init_mode"])
    model = keras.Sequential([keras.Input(shape=(meta["n_features_in_"],), dtype="int32")])
    model.add(keras.layers.Embedding(vocabulary_size, CONFIG["embedding_dim"], mask_zero={masks}))
    if CONFIG["embedding_dropout"]:
        model.add(keras.layers.SpatialDropout1D(CONFIG["embedding_dropout"]))
{body}    if CONFIG["dense_units"]:
        model.add(keras.layers.Dense(CONFIG["dense_units"], activation=CONFIG["activation"],
                                     kernel_initializer=init))
    model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
    optimizer = {{"sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta",
                 "adam": "Adam", "adamax": "Adamax", "nadam": "Nadam"}}[CONFIG["optimizer"]]
    rate = {{}} if CONFIG["learning_rate"] is None else {{"learning_rate": CONFIG["learning_rate"]}}
    model.compile(optimizer=getattr(keras.optimizers, optimizer)(**rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(path):
    keras.utils.set_random_seed(SEED)
    train, test = split(read(path))
{learn_pieces}    lengths = [len(tokenize(t)) for t in train[TEXT_COLUMN]]
    length = CONFIG["sequence_length"]
    if length == "auto":  # the 95th percentile of the training texts' lengths
        length = max(1, int(np.ceil(np.percentile(lengths, 95))))
    vocabulary = fit_vocabulary(train[TEXT_COLUMN], length)
    x, labels = to_ids(train[TEXT_COLUMN], vocabulary, length), train[LABEL_COLUMN].to_numpy()
{early_stopping}    classifier = KerasClassifier(
        model=build_model,
        model__vocabulary_size=len(vocabulary) + 2,
        epochs=CONFIG["epochs"],
        batch_size=CONFIG["batch_size"],
        validation_split=CONFIG["validation_split"],
        class_weight=CONFIG["class_weight"],
        callbacks={callbacks},
        random_state=SEED,
        verbose=0,
    )
    classifier.fit(x, labels)
    predicted = classifier.predict(to_ids(test[TEXT_COLUMN], vocabulary, length))
    truth = test[LABEL_COLUMN].to_numpy()
    print(json.dumps({{
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "classes": sorted(set(map(str, classifier.classes_))),
    }}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python " + {filename!r} + " {data_name}")
    main(sys.argv[1])
'''


SPLIT = '''def split(frame):
    """The run's held-out split: stratified by label, seeded."""
    return train_test_split(frame, test_size=TEST_SHARE, random_state=SEED,
                            stratify=frame[LABEL_COLUMN])'''
GROUPED_SPLIT = '''def split(frame):
    """The run's held-out split: stratified by label, seeded, and every repeat of a text (a
    retweet; case, spacing and links aside) on one side, so no test text was trained on.
    Where no text repeats, or a class has too few distinct texts, repeats are ignored."""
    groups = repeat_groups(frame[TEXT_COLUMN].tolist())
    rows = None
    if len(np.unique(groups)) < len(groups):
        rows = grouped_split(groups, frame[LABEL_COLUMN].to_numpy(), TEST_SHARE, SEED)
    if rows is None:
        return train_test_split(frame, test_size=TEST_SHARE, random_state=SEED,
                                stratify=frame[LABEL_COLUMN])
    return frame.iloc[rows[0]], frame.iloc[rows[1]]'''


BEST_EPOCH = '''class BestEpoch(keras.callbacks.Callback):
    """Stop after CONFIG["patience"] epochs without a better validation macro-F1 and keep
    the best epoch's weights. It scores the rows Keras keeps aside, the last
    validation_split of the training rows; without them the training loss decides."""

    def __init__(self, x, y):
        super().__init__()
        cut = int(np.floor(len(x) * (1 - CONFIG["validation_split"])))
        self.x, self.y = (x[cut:], y[cut:]) if 0 < cut < len(x) else (None, None)

    def on_train_begin(self, logs=None):
        self.best, self.weights, self.wait = -np.inf, None, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.x is None:
            score = -logs["loss"]
        else:
            predicted = self.model.predict(self.x, verbose=0).argmax(axis=1)
            score = f1_score(self.y, predicted, average="macro")
        if score > self.best:
            self.best, self.weights, self.wait = score, self.model.get_weights(), 0
        else:
            self.wait += 1
            self.model.stop_training = self.wait >= CONFIG["patience"]

    def on_train_end(self, logs=None):
        if self.weights is not None:
            self.model.set_weights(self.weights)


'''
EARLY_STOPPING = (
    "    classes = np.unique(labels)  # as scikeras numbers them\n"
    "    best_epoch = BestEpoch(x, np.searchsorted(classes, labels))\n"
)


def split_code(grouped: bool) -> tuple[str, str, set[str]]:
    """The script's `split` (the run's held-out split: grouped as the run's was, with the
    workbench's own functions for it), the constants it needs and the modules it imports."""
    if not grouped:
        return "", SPLIT, set()
    functions = [inspect.getsource(f).strip() for f in (normalised, repeat_groups, grouped_split)]
    constant = f"\nLINK = re.compile({LINK.pattern!r})  # links dropped when texts are compared"
    return constant, "\n\n\n".join([*functions, GROUPED_SPLIT]), {"unicodedata"}


def render(run: Run, result: RunResult, filename: str, reading: Reading | None) -> str:
    """The script for `run`'s best configuration (a JSON-clean copy of it), reading the data
    file as `reading` says (None: the dataset was saved before readings were kept)."""
    spec = run.spec
    config = json.loads(json.dumps({**defaults(), **result.best_config}))
    config["activation"] = config.get("activation") or "relu"
    if reading is None:
        notes = [
            "The workbench kept no record of how the run's data file was read (its dataset "
            "was saved before it kept one), so this script guesses: UTF-8, else Windows-1252, "
            "the delimiter sniffed. Its rows may differ from the run's."
        ]
    else:
        notes = [f"It reads the file as the workbench read the run's: {reading.describe()}."]
    if spec.parent:
        notes.append(
            f"The run started from run {spec.parent}'s saved model (frozen: {spec.freeze}); "
            "this script trains every layer from random weights instead."
        )
    if spec.vectors:
        notes.append(
            "The run started its embedding from word vectors; this script starts it random."
        )
    note = "".join(f"\n{textwrap.fill(in_docstring(line), 88)}\n" for line in notes)
    searched = ", ".join(f"{k} = {v!r}" for k, v in result.best_params.items())
    split_constants, split_functions, split_modules = split_code(spec.group_repeats)
    imported = {"html", "json", "re", "sys", *modules(reading), *split_modules}
    constants, functions = reading_code(reading)
    tokens = token_code(config["tokens"])
    arch = architecture(config["arch"])
    return TEMPLATE.format(
        run_id=run.id,
        found=f" (found by its search: {searched})" if searched else "",
        test_share=spec.test_size,
        filename=filename,
        shown_name=in_docstring(filename),
        data_name=data_name(reading),
        note=note,
        stdlib_imports="\n".join(f"import {name}" for name in sorted(imported)),
        ftfy_import="import ftfy\n" if reading and repairs_mojibake(reading) else "",
        text_column=run.dataset.text_column,
        label_column=run.dataset.label_column,
        seed=spec.seed,
        config=pformat(config, sort_dicts=False, width=92),
        tag_pattern=TAG_PATTERN,
        entity_pattern=ENTITY_PATTERN,
        reading_constants=constants,
        reading_functions=functions,
        tokenizers_import=tokens.imports,
        tokenize_functions=tokens.functions,
        learn_pieces=tokens.learn,
        split_constants=split_constants,
        split_functions=split_functions,
        masking=" (masking padding)" if arch.masks_padding else "",
        architecture=arch.name,
        masks=arch.masks_padding,
        body=arch.export,
        best_epoch=BEST_EPOCH if config["patience"] else "",
        early_stopping=EARLY_STOPPING if config["patience"] else "",
        callbacks="[best_epoch]" if config["patience"] else "[]",
    )
