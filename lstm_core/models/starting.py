"""What a run's fits start from besides random weights: a saved model, or word vectors.

Three moments, three functions:
- `resolve`, when a run is submitted: a run started from a saved model takes that model's
  architecture and text settings into its spec (they cannot differ: the layers and the
  vectorizer are reused); a run with a vectors file takes the file's dimension as its
  embedding size. Either is checked here, with one sentence for what does not fit.
- `load`, in the run's process: the saved model's file and vectorizer are read, or the
  word vectors are read (only the words of the training texts) or trained (word2vec on
  them); every fit gets them once, with the dataset. Nothing of the workspace is read in
  a fit.
- `initial_weights`, in a fit, once its vectorizer is fitted: the embedding rows for the
  words it kept, and the body layers' weights.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_core.data import text_files
from lstm_core.data.word_vectors import WordVectors, coverage, embedding_matrix, read_vectors
from lstm_core.domain.entities import RunStatus, VectorsCoverage
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import applies, defaults
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.domain.start_settings import INHERITED, SELF_VECTORS, check_freezable
from lstm_core.models.model_zoo import InitialWeights, embedding_rows

if TYPE_CHECKING:
    from lstm_core.data.vectorizer import SequenceVectorizer
    from lstm_core.store.workspace import Workspace

SELF_TRAINED = "self-trained word2vec"


@dataclass(frozen=True, eq=False)
class Parent:
    """A saved model to start from: its `.keras` file and its fitted vectorizer."""

    run_id: str
    model_file: bytes
    vectorizer_json: str


@dataclass(frozen=True, eq=False)
class StartingPoint:
    """What the fits of the run with `spec` start from: a saved model or word vectors."""

    spec: ExperimentSpec
    parent: Parent | None = None
    vectors: WordVectors | None = None
    source: str = ""  # the vectors' file name, or SELF_TRAINED

    @property
    def fine_tune_epochs(self) -> int:
        return self.spec.fine_tune_epochs


def _parent_run(workspace: Workspace, run_id: str):
    run = workspace.store.get_run(run_id)
    if run is None:
        raise UserError(
            f"There is no run '{run_id}' to start from in {workspace.root}; see lstm-core runs."
        )
    if run.status != RunStatus.COMPLETED:
        raise UserError(
            f"Run '{run_id}' has no saved model to start from (it is {run.status}); pick a "
            "completed run."
        )
    if not workspace.bundle_dir(run_id).is_dir():
        raise UserError(
            f"Run '{run_id}' completed, but its saved model is missing from {workspace.root}; "
            "pick another run, or train this one again."
        )
    return run


def resolve(workspace: Workspace, spec: ExperimentSpec) -> ExperimentSpec:
    """The spec with what its starting point fixes filled in (see the module's notes)."""
    if spec.parent:
        parent = _parent_run(workspace, spec.parent)
        same_data = parent.spec.dataset_id == spec.dataset_id
        if same_data and (parent.spec.seed, parent.spec.test_size) != (spec.seed, spec.test_size):
            raise UserError(
                f"Run {spec.parent} trained on this data set with another test split (seed "
                f"{parent.spec.seed}, test share {parent.spec.test_size:g}), so its model has "
                "seen texts this run would test on; use its seed and test share."
            )
        result = workspace.store.get_result(spec.parent)
        config = {**defaults(), **result.best_config}  # older models: a later setting's default
        # (a setting the saved model's architecture does not have is none of its shape)
        inherited = {name: config[name] for name in INHERITED if applies(name, config)}
        spec = replace(spec, params=_fixed_by(spec, inherited, f"run {spec.parent}'s model"))
        source = f"Run {spec.parent}'s model"
        check_freezable(spec.frozen(), inherited["arch"], int(inherited["layers"]), source)
        return spec
    if spec.vectors and spec.vectors != SELF_VECTORS:
        info = text_files.read_info(workspace.root, spec.vectors)
        if info.kind != text_files.VECTORS:
            raise UserError(f"'{info.name}' is a text file, not word vectors.")
        params = _fixed_by(spec, {"embedding_dim": info.dim}, f"the vectors in '{info.name}'")
        spec = replace(spec, params=params)
    if spec.vectors_corpus:
        text_files.read_info(workspace.root, spec.vectors_corpus)
    return spec


def _fixed_by(spec: ExperimentSpec, fixed: dict[str, Any], source: str) -> dict[str, Any]:
    for name, value in fixed.items():
        given = spec.params.get(name, value)
        if given != value:
            raise UserError(
                f"{name} is {value} in {source}, but {given} was asked for; drop {name} "
                "from the design (it comes from there)."
            )
    return {**spec.params, **fixed}


def load(workspace: Workspace, spec: ExperimentSpec, train_texts) -> StartingPoint | None:
    """Read (or train) what the run's fits start from; None for random weights."""
    if spec.parent:
        _parent_run(workspace, spec.parent)
        bundle = workspace.bundle_dir(spec.parent)
        parent = Parent(
            spec.parent,
            (bundle / "model.keras").read_bytes(),
            (bundle / "vectorizer.json").read_text(encoding="utf-8"),
        )
        return StartingPoint(spec, parent=parent)
    if not spec.vectors:
        return None
    from lstm_core.data.vectorizer import WORDS, SequenceVectorizer

    fixed = spec.fixed()
    vectorizer = SequenceVectorizer(
        lowercase=fixed["lowercase"],
        strip_punctuation=fixed["strip_punctuation"],
        strip_html=fixed["strip_html"],
        tokens=fixed["tokens"],
        max_tokens=int(spec.highest("max_tokens")),
    )
    if fixed["tokens"] != WORDS:  # subword pieces are learnt from the training texts, at
        vectorizer.fit(train_texts)  # the largest size searched (it holds a smaller one's)
    tokenize = vectorizer.tokenize
    tokenized = [tokenize(text) for text in train_texts]
    words = {token for tokens in tokenized for token in tokens}
    if spec.vectors == SELF_VECTORS:
        from lstm_core.data.word_vectors import train_word2vec

        extra = []
        if spec.vectors_corpus:
            path = text_files.data_path(workspace.root, spec.vectors_corpus)
            extra = [tokenize(line) for line in path.read_text(encoding="utf-8").splitlines()]
        vectors = train_word2vec(tokenized + extra, int(fixed["embedding_dim"]), spec.seed)
        # Words only the extra file has never reach a model: do not ship them to each fit.
        vectors = vectors.only(words)
        source = SELF_TRAINED
    else:
        info = text_files.read_info(workspace.root, spec.vectors)
        vectors = read_vectors(text_files.data_path(workspace.root, spec.vectors), words, info.name)
        source = info.name
    return StartingPoint(spec, vectors=vectors, source=source)


def vectorizer(start: StartingPoint | None, settings: dict[str, Any]):
    """The pipeline's first step: the saved model's fitted vectorizer, kept as it is, or a
    new one to fit on each fold."""
    from lstm_core.data.vectorizer import SequenceVectorizer

    if start is None or start.parent is None:
        return SequenceVectorizer(**settings)
    from sklearn.frozen import FrozenEstimator

    return FrozenEstimator(SequenceVectorizer.from_json(start.parent.vectorizer_json))


def fitted_vectorizer(step) -> SequenceVectorizer:
    """The SequenceVectorizer inside a pipeline's first step (frozen or not)."""
    return getattr(step, "estimator", step)


def initial_weights(
    start: StartingPoint | None, vectorizer: SequenceVectorizer, config: dict[str, Any], seed: int
) -> InitialWeights | None:
    if start is None:
        return None
    frozen, more = start.spec.frozen_for(config), start.fine_tune_epochs
    if start.parent is not None:
        return replace(_parent_weights(start.parent), frozen=frozen, fine_tune_epochs=more)
    rows = embedding_rows(vectorizer.vocabulary_size_, int(config["max_tokens"]))
    return InitialWeights(
        embedding=embedding_matrix(start.vectors, vectorizer.vocabulary_, rows, seed),
        frozen=frozen,
        fine_tune_epochs=more,
    )


@lru_cache(maxsize=2)
def _parent_weights(parent: Parent) -> InitialWeights:
    """Loaded once per process (in safe mode: a saved model runs no code)."""
    import keras

    from lstm_core.models.model_zoo import weights_to_reuse

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.keras"
        path.write_bytes(parent.model_file)
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return weights_to_reuse(model)


def vectors_coverage(
    start: StartingPoint | None, vectorizer_json: str, train_texts
) -> VectorsCoverage | None:
    """How much of the final model's vocabulary, and of the training tokens, had a vector."""
    if start is None or start.vectors is None:
        return None
    from lstm_core.data.vectorizer import SequenceVectorizer

    fitted = SequenceVectorizer.from_json(vectorizer_json)
    counts = Counter(token for text in train_texts for token in fitted.tokenize(text))
    return coverage(start.vectors, fitted.vocabulary_, counts, start.source)
