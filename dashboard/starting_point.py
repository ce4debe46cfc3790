"""The Experiment page's "Starting point": random weights, a saved model (transfer learning),
word vectors from a file, or word vectors trained on the data (word2vec).

The choices are kept per dataset like the rest of the design (`design_memory`). An upload
is checked once (a malformed line is one sentence) and kept in the workspace; the page
remembers which upload it already kept, so a rerun does not read a large file again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from dashboard import design_memory
from dashboard.design_memory import kept
from dashboard.widgets import engine, md, run_label
from lstm_core.api import (
    ARCHITECTURE_NAMES,
    HYPERPARAMETERS,
    INHERITED,
    SELF_VECTORS,
    Dataset,
    Engine,
    Run,
    RunResult,
    RunStatus,
    UserError,
    VectorsCoverage,
    architecture,
)

KINDS = {
    "random": "Random weights",
    "parent": "A saved model (transfer learning)",
    "file": "Word vectors from a file",
    "self": "Word vectors trained on this data (word2vec)",
}
UPLOADED = "_start_uploads"  # an upload's file_id -> the id it was kept under
TEXT_SETTINGS = tuple(n for n, p in HYPERPARAMETERS.items() if p.target == "vectorizer")


def freeze_choice(frozen: list[str], layers: int) -> str:
    """The --freeze value for the ticked layers: all, none, or the list of them."""
    if len(frozen) == layers + 1:
        return "all"
    return ",".join(frozen) or "none"


@dataclass(frozen=True)
class StartChoice:
    """What the page adds to the spec; `fixed` names the design choices it decides."""

    parent: str = ""
    freeze: str = ""
    fine_tune_epochs: int = 0
    vectors: str = ""
    vectors_corpus: str = ""
    vectors_trainable: bool = True
    fixed: tuple[str, ...] = field(default=())


def _kept_upload(upload, add, pick: str = "") -> str | None:
    """The id an upload is kept under, adding it the first time it is seen (and then making
    it the choice of the picker keyed `pick`, once: a later choice there stands)."""
    uploads = st.session_state.setdefault(UPLOADED, {})
    if upload.file_id not in uploads:
        try:
            with st.spinner(f"Reading {md(upload.name)} through once..."):
                uploads[upload.file_id] = add(upload.getvalue(), upload.name).id
        except UserError as error:
            st.error(md(error))
            return None
        if pick:
            st.session_state[pick] = uploads[upload.file_id]
    return uploads[upload.file_id]


def _forget_if_gone(dataset: Dataset, name: str, options, what: str) -> None:
    """A remembered choice (a "Run again" design, say) that is no longer offered is said
    and dropped, so its picker starts at the first option instead of a silent swap."""
    remembered = design_memory.remembered(dataset.id, name, None)
    if remembered is not None and remembered not in options:
        st.warning(f"{what.format(md(remembered))} is gone; pick another one.")
        design_memory.forget(dataset.id, name)


def _fine_tune(column, dataset: Dataset, help: str) -> int:
    return int(
        kept(
            column.number_input,
            "Fine-tune epochs afterwards",
            0,
            500,
            dataset_id=dataset.id,
            name="fine_tune_epochs",
            default=0,
            help=help,
        )
    )


def _from_saved_model(workbench: Engine, dataset: Dataset) -> StartChoice:
    models = [
        r for r in workbench.runs() if r.status == RunStatus.COMPLETED and workbench.has_model(r.id)
    ]
    if not models:
        st.info("No saved model yet: train a run first, then start a new one from it.")
        return StartChoice()
    by_id = {r.id: r for r in models}
    _forget_if_gone(dataset, "parent", by_id, "Run {}, the saved model this design started from,")
    parent = kept(
        st.selectbox,
        "Saved model to start from",
        list(by_id),
        dataset_id=dataset.id,
        name="parent",
        default=models[0].id,
        format_func=lambda i: run_label(by_id[i]),
    )
    result = workbench.result(parent)
    config = result.best_config
    left, right = st.columns(2)
    cell = ARCHITECTURE_NAMES[config["arch"]]
    embedding, _, *body = architecture(config["arch"]).freezable(config["layers"])
    frozen = [
        name
        for name, label in [
            (embedding, "Freeze the embedding"),
            *((name, f"Freeze {cell} layer {d}") for d, name in enumerate(body, start=1)),
        ]
        if kept(left.checkbox, label, dataset_id=dataset.id, name=f"freeze_{name}", default=True)
    ]
    fine = _fine_tune(
        right,
        dataset,
        "Then train every layer together for this many epochs, at a tenth of the learning "
        "rate (0: no fine-tuning).",
    )
    st.caption(
        f"Reused from run {md(parent)}: its vectorizer ({config['max_tokens']:,} words at "
        f"most, {result.vocabulary_size:,} kept; texts cut at {result.sequence_length} "
        f"words), its embedding "
        f"({config['embedding_dim']} dimensions) and its {config['layers']} "
        f"{ARCHITECTURE_NAMES[config['arch']]} layer(s) of {config['units']} units. A new "
        f"output layer (and the dense layer, if you add one) learns this data set's "
        f"{len(dataset.class_counts)} classes; frozen layers keep their weights."
    )
    return StartChoice(
        parent=parent,
        freeze=freeze_choice(frozen, config["layers"]),
        fine_tune_epochs=fine,
        fixed=INHERITED,
    )


def _trainable(column, dataset: Dataset) -> bool:
    return bool(
        kept(
            column.checkbox,
            "Keep training the vectors",
            dataset_id=dataset.id,
            name="train_vectors",
            default=True,
            help="Unticked, the embedding stays exactly as the vectors start it (frozen).",
        )
    )


def _from_file(workbench: Engine, dataset: Dataset) -> StartChoice:
    upload = st.file_uploader(
        "Add a word-vector file: GloVe (.txt), word2vec / fastText (.vec), or either gzipped",
        type=["txt", "vec", "gz"],
        key="exp_vectors_upload",
        help="Read as text only, never as a program; lines are 'word v1 ... vn'.",
    )
    if upload is not None:
        _kept_upload(upload, workbench.add_vectors, pick="exp_vectors")
    files = {f.id: f for f in workbench.text_files("vectors")}
    if not files:
        st.info("No word vectors yet: add a file above.")
        return StartChoice()
    _forget_if_gone(dataset, "vectors", files, "The word vectors {} this design started from")
    vectors = kept(
        st.selectbox,
        "Word vectors",
        list(files),
        dataset_id=dataset.id,
        name="vectors",
        default=next(iter(files)),
        format_func=lambda i: files[i].describe(),
    )
    left, right = st.columns(2)
    trainable = _trainable(left, dataset)
    fine = _fine_tune(right, dataset, "Then train the embedding too, at a tenth of the rate.")
    return StartChoice(
        vectors=vectors,
        vectors_trainable=trainable,
        fine_tune_epochs=fine,
        fixed=("embedding_dim",),
    )


@st.cache_data(max_entries=32, show_spinner="Looking up this data set's words in the vectors...")
def _coverage(dataset_id: str, vectors_id: str, text_settings: tuple) -> VectorsCoverage:
    """Read a large vectors file once per dataset and text settings, not on every rerun."""
    return engine().vectors_coverage(dataset_id, vectors_id, dict(text_settings))


def coverage(dataset: Dataset, choice: StartChoice, config: dict) -> None:
    """How much of this data set a vectors file covers, under `config`'s text settings."""
    if not choice.vectors or choice.vectors == SELF_VECTORS:
        return
    try:
        text_settings = tuple((n, config[n]) for n in TEXT_SETTINGS)
        covered = _coverage(dataset.id, choice.vectors, text_settings)
    except UserError as error:
        st.error(md(error))
        return
    one, two = st.columns(2)
    one.metric(
        "Vocabulary covered",
        f"{covered.coverage_vocabulary:.0%}",
        help=f"{covered.covered:,} of the {covered.words:,} words this data set keeps have a "
        "vector; the others start random.",
    )
    two.metric(
        "Running tokens covered",
        f"{covered.coverage_tokens:.0%}",
        help="The share of all words in the texts, counted each time they occur, that start "
        "from a vector.",
    )


def _self_trained(workbench: Engine, dataset: Dataset) -> StartChoice:
    upload = st.file_uploader(
        "Extra unlabelled texts to train the vectors on (optional; UTF-8, a text per line)",
        type=["txt"],
        key="exp_corpus_upload",
    )
    corpus = _kept_upload(upload, workbench.add_corpus) if upload is not None else ""
    left, right = st.columns(2)
    trainable = _trainable(left, dataset)
    fine = _fine_tune(right, dataset, "Then train the embedding too, at a tenth of the rate.")
    st.caption(
        "word2vec (skip-gram, window 5, 10 passes, the run's seed) learns a vector for every "
        "word of the training split (never the test split), of the embedding size chosen "
        "below; the network then starts from them."
    )
    return StartChoice(
        vectors=SELF_VECTORS,
        vectors_corpus=corpus or "",
        vectors_trainable=trainable,
        fine_tune_epochs=fine,
    )


def start_choice(workbench: Engine, dataset: Dataset) -> StartChoice:
    """Draw the starting-point choices (the coverage of word vectors comes later, once the
    text settings are chosen)."""
    st.subheader("Starting point")
    kind = kept(
        st.radio,
        "Start the model from",
        list(KINDS),
        dataset_id=dataset.id,
        name="start",
        default="random",
        format_func=KINDS.get,
        horizontal=True,
        help="Transfer learning reuses what a model (or a set of word vectors) learned "
        "elsewhere: freeze it and train new layers on top, then optionally fine-tune.",
    )
    if kind == "parent":
        return _from_saved_model(workbench, dataset)
    if kind == "file":
        return _from_file(workbench, dataset)
    if kind == "self":
        return _self_trained(workbench, dataset)
    return StartChoice()


def origin(workbench: Engine, run: Run) -> str:
    """What a run started from, in a few words ("run X's model, frozen: all", "word2vec")."""
    spec = run.spec
    if spec.parent:
        tuned = f", fine-tuned {spec.fine_tune_epochs} epoch(s)" if spec.fine_tune_epochs else ""
        return f"{_run_title(workbench, spec.parent)}'s model, frozen: {spec.freeze}{tuned}"
    if spec.vectors == SELF_VECTORS:
        return "word2vec on its training texts"
    if spec.vectors:
        names = {f.id: f.name for f in workbench.text_files("vectors")}
        return f"word vectors {names.get(spec.vectors, spec.vectors)}"
    return "random weights"


def _run_title(workbench: Engine, run_id: str) -> str:
    try:
        return f"run {workbench.run(run_id).title}"
    except UserError:
        return f"run {run_id} (deleted)"


def lineage(workbench: Engine, run: Run) -> str:
    """ "this ← parent ← grandparent": the runs whose models this one was built on."""
    return " ← ".join(
        [f"run {run.title}", *(_run_title(workbench, i) for i in workbench.lineage(run.id))]
    )


def start_summary(workbench: Engine, run: Run, result: RunResult) -> str | None:
    """A sentence on the starting point of a finished run, for the Runs page."""
    counts = result.parameters
    weights = (
        f" {counts.trainable:,} parameters trained and {counts.frozen:,} stayed frozen"
        + (" (then all were fine-tuned)" if run.spec.fine_tune_epochs else "")
        + "."
        if counts is not None
        else ""
    )
    if result.parent:
        return f"Transfer learning: {lineage(workbench, run)}, frozen: {run.spec.freeze}.{weights}"
    if result.vectors is not None:
        v = result.vectors
        return (
            f"The embedding started from {v.source}: {v.coverage_vocabulary:.0%} of the "
            f"vocabulary ({v.covered:,} of {v.words:,} words) and {v.coverage_tokens:.0%} of "
            f"the running tokens had a vector; the others started random.{weights}"
        )
    return None
