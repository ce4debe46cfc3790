"""Predict: a saved model labels typed sentences at once, or a whole file for download.

Typing reruns only the `typed` fragment: the list of models, their results and the bundle
download are drawn once per page run, not per pause in typing, and the label is drawn
before the explanation is computed.
"""

import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from chart_text import chart_labels
from insight_views import coloured_tokens, gate_heatmaps, gradient_bars
from lstm_core.api import RunStatus, UserError
from widgets import choose, engine, md, run_name

BATCH_LIMIT = 100_000


TYPING_PAUSE = "250ms"  # the answer follows the typing, one prediction per pause


@st.cache_resource(max_entries=4, show_spinner="Loading the model...")
def load_model(root: str, run_id: str):
    return engine().load_model(run_id)


@st.cache_data(max_entries=16)
def model_results(root: str, versions: tuple) -> dict:
    """Each model's result, read again only when the list of models changes."""
    return {run_id: engine().result(run_id) for run_id, _ in versions}


@st.cache_data(max_entries=64, show_spinner="Looking inside the model...")
def explained(root: str, run_id: str, text: str):
    return engine().explain(run_id, text, load_model(root, run_id))


def why(run_id: str, sentence: str) -> None:
    """Token attributions, a what-if edit, the first layer's gates, and gradients."""
    explanation = explained(root, run_id, sentence)
    st.subheader("Why this label")
    st.html(coloured_tokens(explanation))
    st.caption(
        f"Blue words push towards **{md(explanation.label)}**, red ones away from it (darker: "
        f"more). Method: {explanation.method}. The attributions add up to the probability's "
        f"change from the baseline within {abs(explanation.completeness_gap):.1e}. Dashed: "
        "a word the model does not know (it reads them all as one unknown word)."
        + (
            f" The model reads only the first {len(explanation.tokens)} words: "
            f"{explanation.unread_words} more were not read."
            if explanation.unread_words
            else ""
        )
    )
    key = f"pred_whatif_{run_id}"
    if st.session_state.get(f"{key}_of") != sentence:  # a new sentence: edit that one
        st.session_state[key] = st.session_state[f"{key}_of"] = sentence
    edited = st.text_input("What if the sentence read...", key=key)
    if edited.strip() and edited != sentence:
        after = bundle.predict([edited])[0].probabilities
        st.dataframe(
            [
                {
                    "label": label,
                    "typed": before,
                    "edited": after[label],
                    "change": after[label] - before,
                }
                for label, before in explanation.probabilities.items()
            ],
            hide_index=True,
        )
    trace = explanation.gates
    if trace is not None:
        with st.expander(f"Inside the network: the first {trace.kind} layer, token by token"):
            st.caption(
                "Recomputed from the trained weights with the layer's own equations (a "
                "bidirectional layer: its forward half)."
            )
            gate_heatmaps(trace, [t.token for t in explanation.tokens], key="pred_gates")
    with st.expander("How much each word still moves the answer (vanishing gradients)"):
        others = [i for i in models if i != run_id]
        compare = st.selectbox(
            "Compare with another model",
            [None, *others],
            format_func=lambda i: "none" if i is None else describe(i),
            key="pred_gradient_other",
        )
        series = {describe(run_id): explanation}
        if compare is not None:
            series[describe(compare)] = explained(root, compare, sentence)
        gradient_bars(series, key="pred_gradients")
        st.caption(
            "The size of the gradient of the predicted probability with respect to each "
            "word's embedding. A SimpleRNN's early words often get almost none: their signal "
            "has faded by the end of the text; an LSTM's cell carries it further."
        )


def probabilities_chart(probabilities: dict) -> go.Figure:
    labels = list(probabilities)
    classes, whole = chart_labels(labels)
    figure = go.Figure(
        go.Bar(
            x=[probabilities[k] for k in labels],
            y=classes,
            customdata=whole,
            hovertemplate="%{customdata}: %{x:.3f}<extra></extra>",
            orientation="h",
            marker_color="#2E6FDB",
        )
    )
    figure.update_layout(
        height=80 + 40 * len(labels),
        xaxis={"range": [0, 1], "title": "probability"},
        yaxis={"type": "category"},
        margin={"t": 10},
    )
    return figure


st.title("Predict")
workbench = engine()
root = str(workbench.root)
every_run = workbench.runs()
models = {
    r.id: r for r in every_run if r.status == RunStatus.COMPLETED and workbench.has_model(r.id)
}
if not models:
    st.info("No trained model yet: models appear here when a run completes.")
    st.stop()
results = model_results(root, tuple((r.id, r.finished_at) for r in models.values()))


def describe(run_id: str) -> str:
    result, run = results[run_id], models[run_id]
    return (
        f"{run_name(run)} · {run.dataset.name}: {run.dataset.text_column} → {run.dataset.label_column} · "
        f"{result.describe_best()} · test macro-F1 {result.test.macro_f1:.3f}"
    )


newest = next(iter(models))


def missing(wanted: str) -> str:
    if any(r.id == wanted for r in every_run):
        return f"Run {md(wanted)} has no saved model; showing the newest model, {newest}."
    return (
        f"Run {md(wanted)} is not in this workspace (it may have been deleted); "
        f"showing the newest model, {newest}."
    )


run_id = choose(
    st.selectbox,
    "Model",
    list(models),
    "run",
    missing=missing,
    format_func=describe,
    version=[(r.id, r.name) for r in models.values()],
)
bundle = load_model(root, run_id)


@st.fragment
def typed(run_id: str) -> None:
    """The typed sentence's label, then why: all that a pause in typing reruns."""
    sentence = st.text_input(
        "Type a sentence",
        key="pred_sentence",
        placeholder=f"A text for this model to label as {' or '.join(bundle.labels)}",
        help="The answer updates as you pause typing.",
        live=TYPING_PAUSE,
    )
    if not sentence.strip():
        return
    prediction = bundle.predict([sentence])[0]
    cleaned = " ".join(bundle.cleaned(sentence).split())
    if cleaned != " ".join(sentence.split()):
        st.caption(
            "This model removes HTML tags and entities first, as from its training texts; "
            f"it reads: {md(cleaned) or '(nothing)'}"
        )
    if prediction.all_unknown:
        st.warning(
            "None of these words is in the model's vocabulary, so this answer only reflects "
            "how common each label was in training. Try words from the data set.",
            icon=":material/help:",
        )
    elif prediction.unknown_words:
        st.caption(
            "Words the model never saw (read as 'unknown'): "
            + md(", ".join(prediction.unknown_words))
        )
    left, right = st.columns([1, 2])
    left.markdown(f"Predicted label: **{md(prediction.label)}**")
    left.caption(f"{prediction.probabilities[prediction.label]:.1%} sure")
    right.plotly_chart(probabilities_chart(prediction.probabilities), key="pred_chart")
    why(run_id, sentence)


typed(run_id)

st.subheader("Many texts at once")
paste, upload = st.tabs(["Paste", "Upload a file"])
texts: list[str] = []
rows = pd.DataFrame()  # the uploaded file's rows, kept whole beside the predictions
with paste:
    pasted = st.text_area("One text per line", key="pred_paste", height=150)
    texts = [line for line in pasted.splitlines() if line.strip()]
    rows = pd.DataFrame({"text": texts})
with upload:
    file = st.file_uploader(
        "A table: CSV, TSV, TXT, Excel, JSON Lines or Parquet (gzip or zip too)",
        key="pred_upload",
    )
    if file is not None:
        try:
            frame, report = workbench.read_file(file.getvalue(), file.name)
        except UserError as error:
            st.error(md(error))
        else:
            columns = [str(c) for c in frame.columns]
            default = (
                columns.index(report.suggested_text) if report.suggested_text in columns else 0
            )
            column = st.selectbox("Text column", columns, index=default, key="pred_column")
            rows = frame.head(BATCH_LIMIT)
            texts = rows[column].fillna("").astype(str).tolist()  # an empty cell: no label
if any(t.strip() for t in texts):
    labelled = [i for i, t in enumerate(texts) if t.strip()]
    with st.spinner(f"Labelling {len(labelled):,} texts..."):
        predictions = bundle.predict([texts[i] for i in labelled])
    found = pd.DataFrame(
        [{"predicted label": p.label, **{f"p({k})": v for k, v in p.probabilities.items()}}
         for p in predictions],
        index=rows.index[labelled],
    )  # fmt: skip
    table = rows.join(found)
    st.dataframe(table, hide_index=True)
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    st.download_button(
        "Download predictions (CSV)",
        buffer.getvalue(),
        file_name=f"predictions-{run_id}.csv",
        mime="text/csv",
    )

st.download_button(
    "Download the model bundle (zip)",
    lambda: workbench.model_zip(run_id),  # built when clicked, not sent with every run
    file_name=f"model-{run_id}.zip",
    mime="application/zip",
    help="The .keras model, the vectorizer, labels, spec and metrics; no pickles.",
)
