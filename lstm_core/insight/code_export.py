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

import json
import textwrap
from pprint import pformat

from lstm_core.data.markup import ENTITY_PATTERN, TAG_PATTERN
from lstm_core.data.reading import Reading
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

TEXT_COLUMN, LABEL_COLUMN = {text_column!r}, {label_column!r}
SEED, TEST_SHARE = {seed!r}, {test_share!r}
CONFIG = {config}
INITIALIZERS = {{"uniform": "random_uniform", "normal": "random_normal", "zero": "zeros"}}
TAG = re.compile({tag_pattern!r}, re.DOTALL)  # <br />, <a href="...">, </p>; not "<3"
ENTITY = re.compile({entity_pattern!r})  # &amp; &#39; &quot;{reading_constants}


{reading_functions}


def read(path):
    """The run's two columns as the workbench kept them: rows without a text or a label
    left out, labels stripped."""
    frame = read_table(path)[[TEXT_COLUMN, LABEL_COLUMN]].copy()
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].str.strip()
    return frame[(frame[TEXT_COLUMN].str.strip() != "") & (frame[LABEL_COLUMN] != "")]


def strip_html(text):
    """Entities unescaped (&amp; -> &), then each HTML tag replaced by a space."""
    text = ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return TAG.sub(" ", text)


def tokenize(text):
    if CONFIG["strip_html"]:
        text = strip_html(text)
    if CONFIG["lowercase"]:
        text = text.lower()
    return re.findall(r"\\w+" if CONFIG["strip_punctuation"] else r"\\w+|[^\\w\\s]", text)


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


def build_model(meta, vocabulary_size):
    """Embedding{masking} -> {architecture} -> optional dense -> softmax."""
    init = INITIALIZERS.get(CONFIG["init_mode"], CONFIG["init_mode"])
    model = keras.Sequential([keras.Input(shape=(meta["n_features_in_"],), dtype="int32")])
    model.add(keras.layers.Embedding(vocabulary_size, CONFIG["embedding_dim"], mask_zero={masks}))
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
    frame = read(path)
    train, test = train_test_split(frame, test_size=TEST_SHARE, random_state=SEED,
                                   stratify=frame[LABEL_COLUMN])
    lengths = [len(tokenize(t)) for t in train[TEXT_COLUMN]]
    length = CONFIG["sequence_length"]
    if length == "auto":  # the 95th percentile of the training texts' lengths
        length = max(1, int(np.ceil(np.percentile(lengths, 95))))
    vocabulary = fit_vocabulary(train[TEXT_COLUMN], length)
    callbacks = []
    if CONFIG["patience"]:
        monitor = "val_loss" if CONFIG["validation_split"] else "loss"
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=CONFIG["patience"],
                                                       restore_best_weights=True))
    classifier = KerasClassifier(
        model=build_model,
        model__vocabulary_size=len(vocabulary) + 2,
        epochs=CONFIG["epochs"],
        batch_size=CONFIG["batch_size"],
        validation_split=CONFIG["validation_split"],
        class_weight=CONFIG["class_weight"],
        callbacks=callbacks,
        random_state=SEED,
        verbose=0,
    )
    classifier.fit(to_ids(train[TEXT_COLUMN], vocabulary, length), train[LABEL_COLUMN].to_numpy())
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
    imported = {"html", "json", "re", "sys", *modules(reading)}
    constants, functions = reading_code(reading)
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
        masking=" (masking padding)" if arch.masks_padding else "",
        architecture=arch.name,
        masks=arch.masks_padding,
        body=arch.export,
    )
