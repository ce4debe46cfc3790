"""A trained model as a folder a fresh process can load and predict from raw strings.

Nothing in a bundle is a pickle: the Keras model is a `.keras` file loaded in safe mode,
the vectorizer, labels, spec and metrics are JSON. So a bundle someone hands you cannot
run code when it is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from lstm_core.data.vectorizer import SequenceVectorizer
from lstm_core.domain.analysis import LabelledText
from lstm_core.domain.errors import UserError

MODEL_FILE = "model.keras"
VECTORIZER_FILE = "vectorizer.json"
LABELS_FILE = "labels.json"
SPEC_FILE = "spec.json"
METRICS_FILE = "metrics.json"
BUNDLE_FILES = (MODEL_FILE, VECTORIZER_FILE, LABELS_FILE, SPEC_FILE, METRICS_FILE)
PREDICT_CHUNK = 1024


def save_bundle(
    folder: Path,
    model_file: bytes,
    vectorizer_json: str,
    labels: list[str],
    spec: dict,
    metrics: dict,
) -> Path:
    """Write into a scratch folder first, then rename, so a half-written bundle never exists.

    The model arrives as the bytes of its `.keras` file: it was fitted in whatever process
    ran the refit, and this process need not load Keras to save it.
    """
    folder = Path(folder)
    scratch = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        scratch.mkdir(parents=True)
        (scratch / MODEL_FILE).write_bytes(model_file)
        (scratch / VECTORIZER_FILE).write_text(vectorizer_json, encoding="utf-8")
        (scratch / LABELS_FILE).write_text(json.dumps([str(x) for x in labels]), encoding="utf-8")
        (scratch / SPEC_FILE).write_text(json.dumps(spec, indent=2), encoding="utf-8")
        (scratch / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    except BaseException:  # a full disk, say: leave no half bundle taking space
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    return folder


class Bundle:
    """A loaded bundle: `predict(["some text"])` -> labels with per-class probabilities."""

    def __init__(
        self, model, vectorizer: SequenceVectorizer, labels: list[str], spec: dict, metrics: dict
    ):
        self.model = model
        self.vectorizer = vectorizer
        self.labels = labels
        self.spec = spec
        self.metrics = metrics
        self._forward = _compiled_forward(model, vectorizer.sequence_length_)

    @classmethod
    def load(cls, folder: str | Path) -> Bundle:
        folder = Path(folder)
        missing = [name for name in BUNDLE_FILES if not (folder / name).exists()]
        if missing:
            raise UserError(
                f"'{folder}' is not a complete model bundle (missing {', '.join(missing)})."
            )
        import keras

        try:
            model = keras.saving.load_model(folder / MODEL_FILE, safe_mode=True)
        except (ValueError, TypeError, OSError) as exc:  # safe mode refuses code in a model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"The model in '{folder}' cannot be loaded safely ({first[:160]}); only models "
                "saved by this workbench, without custom code, can be used."
            ) from None
        vectorizer = SequenceVectorizer.from_json(
            (folder / VECTORIZER_FILE).read_text(encoding="utf-8")
        )

        def read(name):
            return json.loads((folder / name).read_text(encoding="utf-8"))

        return cls(model, vectorizer, read(LABELS_FILE), read(SPEC_FILE), read(METRICS_FILE))

    def cleaned(self, text: str) -> str:
        """`text` as the model reads it before tokenizing: HTML tags and entities removed
        when it was trained on texts cleaned so (bundles saved before that setting: never)."""
        return self.vectorizer.clean(text)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """One traced graph for any batch size: no `predict()` set-up, no eager step loop."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        sequences = self.vectorizer.transform(list(texts))
        parts = [
            np.asarray(self._forward(sequences[i : i + PREDICT_CHUNK]))
            for i in range(0, len(sequences), PREDICT_CHUNK)
        ]
        return np.concatenate(parts)

    def predict(self, texts: list[str]) -> list[LabelledText]:
        """Labels with probabilities, and the words of each text the model never learned."""
        proba = self.predict_proba(texts)
        vocabulary = self.vectorizer.vocabulary_
        labelled = []
        for text, row in zip(texts, proba, strict=True):
            words = self.vectorizer.tokenize(text)
            labelled.append(
                LabelledText(
                    text=text,
                    label=self.labels[int(row.argmax())],
                    probabilities={
                        label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)
                    },
                    words=len(words),
                    known_words=sum(w in vocabulary for w in words),
                    unknown_words=list(dict.fromkeys(w for w in words if w not in vocabulary)),
                )
            )
        return labelled


def _compiled_forward(model, sequence_length: int):
    """The model's inference pass as one TensorFlow graph, traced once for every batch size.

    Called eagerly, a masked recurrent layer steps through time in Python: about 150 ms
    for one sentence here, against a few ms for the graph.
    """
    import tensorflow as tf

    signature = [tf.TensorSpec(shape=(None, sequence_length), dtype=tf.int32)]
    return tf.function(lambda x: model(x, training=False), input_signature=signature)


def export_zip(folder: str | Path, destination: str | Path) -> Path:
    """One file to hand to someone else: the bundle's files at the top of a zip."""
    folder, destination = Path(folder), Path(destination)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in BUNDLE_FILES:
            archive.write(folder / name, arcname=name)
    return destination
