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

from lstm_core.data.intake import SPILL_MAX_FILLED_SHARE
from lstm_core.data.markup import ENTITY_PATTERN, TAG_PATTERN
from lstm_core.data.reading import Reading
from lstm_core.data.text_decoding import MOJIBAKE_PATTERN
from lstm_core.domain.entities import Run, RunResult
from lstm_core.domain.hyperparams import defaults

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
CELLS = {{"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "bilstm": "LSTM", "bigru": "GRU"}}
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
    """Embedding (masking padding) -> recurrent layer(s) -> optional dense -> softmax."""
    init = INITIALIZERS.get(CONFIG["init_mode"], CONFIG["init_mode"])
    cell = getattr(keras.layers, CELLS[CONFIG["arch"]])
    model = keras.Sequential([keras.Input(shape=(meta["n_features_in_"],), dtype="int32")])
    model.add(keras.layers.Embedding(vocabulary_size, CONFIG["embedding_dim"], mask_zero=True))
    for depth in range(CONFIG["layers"]):
        layer = cell(
            CONFIG["units"],
            return_sequences=depth < CONFIG["layers"] - 1,
            recurrent_dropout=CONFIG["recurrent_dropout"],
            kernel_initializer=init,
        )
        model.add(keras.layers.Bidirectional(layer) if CONFIG["arch"].startswith("bi") else layer)
        if CONFIG["dropout_rate"]:
            model.add(keras.layers.Dropout(CONFIG["dropout_rate"]))
    if CONFIG["dense_units"]:
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

GUESSED_TABLE = '''
def read_table(path):
    """The workbench kept no record of how the run's file was read (its dataset was saved
    before it kept one), so this guesses as it did then: UTF-8, else Windows-1252, the
    delimiter sniffed. The rows may differ from the run's."""
    print(f"note: {path} is read by a guess; its rows may differ from the run's",
          file=sys.stderr)
    for encoding in ("utf-8", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False,
                               sep=None, engine="python")
        except UnicodeDecodeError:
            continue
    sys.exit(f"{path} is neither UTF-8 nor Windows-1252 text")
'''

FIX_MOJIBAKE = '''
def fix_mojibake(cell):
    """ftfy's repair of UTF-8 that was decoded twice ("cafÃ©" -> "café"), tried where the
    workbench tries it: on a cell holding a UTF-8 lead byte's character followed by a
    continuation byte's, as Windows-1252 or Latin-1 shows them. As in the workbench, a
    repair that would add a U+FFFD ("Â?" becomes one) is not made."""
    if not MOJIBAKE.search(cell):
        return cell
    repaired = ftfy.fix_encoding(cell)
    return repaired if repaired.count("\\ufffd") <= cell.count("\\ufffd") else cell
'''

JSON_CELL = '''
def json_cell(value):
    """A JSON value as the workbench shows it: null as "", any other non-string as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
'''

COLUMN_NAMES = '''
def free_name(name, taken):
    """name, else name_2, name_3, ...: the first no other column has."""
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return name if name not in taken else f"{name}_{number}"


def column_names(header, width):
    """As the workbench names columns: stripped, a repeated name numbered (text, text_2)
    past every name the header has, a missing one column_N by its position."""
    given = [header[p].strip() if p < len(header) else "" for p in range(width)]
    taken, used, names = {name for name in given if name}, set(), []
    for name in given:
        if name and name in used:
            name = free_name(name, taken | used)
        used.add(name)
        names.append(name)
    taken = {name for name in names if name}
    for position, name in enumerate(names):
        if not name:
            names[position] = free_name(f"column_{position + 1}", taken)
            taken.add(names[position])
    return names
'''

JOIN_SPILLED = '''
def join_spilled(frame, header, delimiter):
    """Text cut at an unquoted delimiter spills into columns with no name. As the
    workbench does, such a column with text in at most {share:.0%} of the rows is joined back
    into the last column kept before it, and one with no text at all is dropped."""
    kept = []
    for position in range(frame.shape[1]):
        cells = frame.iloc[:, position]
        filled = (cells.str.strip() != "").to_numpy()
        named = position < len(header) and header[position].strip() != ""
        if not named and kept and 0 < filled.sum() <= SPILL_SHARE * len(frame):
            target = kept[-1]
            frame.iloc[filled, target] = frame.iloc[filled, target] + delimiter + cells[filled]
        elif named or filled.any():
            kept.append(position)
    return frame.iloc[:, kept]
'''

TABLE = """
def read_table(path):
{docstring}
    rows = [row for row in read_rows(path) if any(cell.strip() for cell in row)]
    header, body = {split}
    width = max(len(row) for row in rows)
    frame = pd.DataFrame([row + [""] * (width - len(row)) for row in body], dtype="str")
    frame.columns = column_names(header, width)
    return {result}
"""

_QUOTING = {True: "csv.QUOTE_MINIMAL", False: "csv.QUOTE_NONE"}
_DATA_NAMES = {
    "tsv": "DATA.tsv",
    "lines": "DATA.txt",
    "jsonl": "DATA.jsonl",
    "json": "DATA.json",
    "xlsx": "DATA.xlsx",
    "parquet": "DATA.parquet",
}


def _data_name(reading: Reading | None) -> str:
    """The usage line's example file, shaped like the run's: an xlsx run is not given a CSV."""
    if reading is None:
        return "DATA.csv"
    if reading.compression == "zip":
        return "DATA.zip"
    name = _DATA_NAMES.get(reading.format, "DATA.csv")
    return f"{name}.gz" if reading.compression == "gzip" else name


def _literal(value: str) -> str:
    """`value` as a Python string literal, in double quotes like the rest of the script."""
    text = repr(value)
    return f'"{text[1:-1]}"' if text[0] == "'" and '"' not in text else text


def _in_docstring(text: str) -> str:
    """A file, sheet or member name made safe inside the script's docstrings."""
    return text.replace('"', "'").replace("\\", "/")


def _docstring(text: str) -> str:
    """`text` as a function's docstring, wrapped at 88 columns."""
    return textwrap.fill(f'"""{text}"""', 88, initial_indent="    ", subsequent_indent="    ")


def _repairs_mojibake(reading: Reading) -> bool:
    """Only where the workbench repaired a row: ftfy is one more package to install."""
    return reading.encoding is not None and reading.fix_mojibake and reading.mojibake_rows > 0


def _spills(reading: Reading) -> bool:
    """The workbench joins spilled text back only in delimited text with column names."""
    return reading.format in ("csv", "tsv") and reading.header


# A text's lines as the workbench reads them (`delimited.text_lines`): only \n, \r\n and \r
# end a line, never U+2028 or a form feed inside a JSON string or a text.
_LINES = '(line.removesuffix("\\n") for line in io.StringIO(text, newline=None))'


def _modules(reading: Reading | None) -> set[str]:
    """The standard-library modules the script's reading needs."""
    if reading is None:
        return set()
    needed = (
        {{"gzip": "gzip", "zip": "zipfile"}[reading.compression]} if reading.compression else set()
    )
    if reading.format in ("csv", "tsv"):
        needed |= {"csv", "io"}
    if reading.format in ("lines", "jsonl"):
        needed.add("io")
    if reading.compression and reading.encoding is None:
        needed.add("io")
    return needed


def _unpacking(reading: Reading) -> tuple[list[str], str]:
    """Lines that put the file's text (a text format) or a source pandas reads (a workbook,
    Parquet) in a variable, and that variable's name."""
    member = _literal(reading.member or "")
    if reading.encoding is not None:
        encoding = _literal(reading.encoding)
        if reading.compression == "zip":
            opened = "zipfile.ZipFile(path) as archive"
            text = f'archive.read({member}).decode({encoding}, errors="replace")'
        else:
            opener = 'gzip.open(path, "rt", ' if reading.compression == "gzip" else "open(path, "
            opened = f'{opener}encoding={encoding}, errors="replace", newline="") as handle'
            text = "handle.read()"
        return [f"with {opened}:", f"    text = {text}"], "text"
    if reading.compression == "zip":
        opened, data = "zipfile.ZipFile(path) as archive", f"archive.read({member})"
    elif reading.compression == "gzip":
        opened, data = "gzip.open(path) as handle", "handle.read()"
    else:
        return [], "path"
    return [f"with {opened}:", f"    source = io.BytesIO({data})"], "source"


def _parsing(reading: Reading, source: str) -> list[str]:
    """Lines that turn that text or source into rows of strings, and return them."""
    fix = _repairs_mojibake(reading)
    if reading.format in ("csv", "tsv"):
        rows = (
            f'csv.reader(io.StringIO(text, newline=""), delimiter={_literal(reading.delimiter)}, '
            f"quoting={_QUOTING[reading.quoting]})"
        )
        if fix:
            return [
                f"rows = {rows}",
                "return [[fix_mojibake(cell) for cell in row] for row in rows]",
            ]
        return [f"return list({rows})"]
    if reading.format == "lines":
        line = "fix_mojibake(line)" if fix else "line"
        return [f"return [[{line}] for line in {_LINES}]"]
    if reading.format in ("jsonl", "json"):
        cell = "json_cell(record.get(key))"
        records = (
            "json.loads(text)"
            if reading.format == "json"
            else f"[json.loads(line) for line in {_LINES} if line.strip()]"
        )
        return [
            f"records = {records}",
            "names = list(dict.fromkeys(key for record in records for key in record))",
            f"return [names, *([{f'fix_mojibake({cell})' if fix else cell} for key in names] "
            "for record in records)]",
        ]
    if reading.format == "xlsx":
        return [
            f"frame = pd.read_excel({source}, sheet_name={_literal(reading.sheet or '')}, "
            'header=None, dtype=str, engine="openpyxl")',
            'return frame.fillna("").to_numpy(dtype=object).tolist()',
        ]
    return [
        f'frame = pd.read_parquet({source}, engine="pyarrow")',
        'cells = frame.astype(str).where(frame.notna(), "")',
        "return [[str(name) for name in frame.columns], *cells.to_numpy(dtype=object).tolist()]",
    ]


def _read_rows(reading: Reading) -> str:
    """The script's `read_rows`, the run's `Reading` written into it."""
    said = [f"The file's rows as lists of strings, read as the workbench read it: "
            f"{_in_docstring(reading.describe())}."]  # fmt: skip
    if reading.encoding is not None:
        found = reading.undecodable_bytes
        counted = f" (it found {found:,} in {reading.undecodable_rows:,} rows)" if found else ""
        said.append(f"Bytes that do not decode show as U+FFFD, as in the workbench{counted}.")
        if _repairs_mojibake(reading):
            said.append(
                "Text decoded twice is repaired, as the workbench did in "
                f"{reading.mojibake_rows:,} rows."
            )
    if reading.format in ("csv", "tsv") and not reading.quoting:
        said.append(
            f"Quotes are plain characters ({reading.quote_free_rows_changed:,} rows differ from "
            "a reading with quoting)."
        )
    unpacking, source = _unpacking(reading)
    body = "".join(f"    {line}\n" for line in [*unpacking, *_parsing(reading, source)])
    return f"def read_rows(path):\n{_docstring(' '.join(said))}\n{body}"


def _read_table(reading: Reading) -> str:
    """The script's `read_table`: the workbench's table made of those rows."""
    said = [
        "The file as the workbench's table of strings. These lines repeat its intake (the "
        "script does not import the workbench): blank rows skipped,",
        "the first row naming the columns,"
        if reading.header
        else "the columns named column_1, column_2, ... (the first row is data),",
        "short rows padded with empty cells",
    ]
    if _spills(reading):
        said[-1] += ", and text spilled over at an unquoted delimiter joined back"
        result = f"join_spilled(frame, header, {_literal(reading.delimiter or '')})"
    else:
        result = "frame"
    return TABLE.format(
        docstring=_docstring(" ".join(said) + "."),
        split="rows[0], rows[1:]" if reading.header else "[], rows",
        result=result,
    )


def _reading_code(reading: Reading | None) -> tuple[str, str]:
    """The module-level lines and the functions that read the file as the run's dataset was."""
    if reading is None:
        return "", GUESSED_TABLE.strip()
    constants, functions = [], [_read_rows(reading)]
    if reading.format in ("csv", "tsv"):
        constants.append("csv.field_size_limit(2**31 - 1)  # as the workbench: texts over 128 KB")
    if _repairs_mojibake(reading):
        constants.append(f"MOJIBAKE = re.compile({MOJIBAKE_PATTERN!r})  # 'Ã©' for 'é'")
        functions.append(FIX_MOJIBAKE)
    if reading.format in ("jsonl", "json"):
        functions.append(JSON_CELL)
    functions.append(COLUMN_NAMES)
    if _spills(reading):
        constants.append(f"SPILL_SHARE = {SPILL_MAX_FILLED_SHARE!r}")
        functions.append(JOIN_SPILLED.format(share=SPILL_MAX_FILLED_SHARE))
    functions.append(_read_table(reading))
    return "".join(f"\n{line}" for line in constants), "\n\n\n".join(f.strip() for f in functions)


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
    note = "".join(f"\n{textwrap.fill(_in_docstring(line), 88)}\n" for line in notes)
    searched = ", ".join(f"{k} = {v!r}" for k, v in result.best_params.items())
    modules = {"html", "json", "re", "sys", *_modules(reading)}
    constants, functions = _reading_code(reading)
    return TEMPLATE.format(
        run_id=run.id,
        found=f" (found by its search: {searched})" if searched else "",
        test_share=spec.test_size,
        filename=filename,
        shown_name=_in_docstring(filename),
        data_name=_data_name(reading),
        note=note,
        stdlib_imports="\n".join(f"import {name}" for name in sorted(modules)),
        ftfy_import="import ftfy\n" if reading and _repairs_mojibake(reading) else "",
        text_column=run.dataset.text_column,
        label_column=run.dataset.label_column,
        seed=spec.seed,
        config=pformat(config, sort_dicts=False, width=92),
        tag_pattern=TAG_PATTERN,
        entity_pattern=ENTITY_PATTERN,
        reading_constants=constants,
        reading_functions=functions,
    )
