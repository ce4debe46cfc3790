"""Predict: a saved model labels typed sentences at once, or a whole file for download.

Typing reruns only the `typed` fragment (prediction_views): the list of models, their results
and the bundle download are drawn once per page run, not per pause in typing.
"""

import io

import pandas as pd
import streamlit as st

from dashboard.prediction_views import load_model, typed
from dashboard.widgets import choose, engine, md, run_name
from lstm_core.api import RunStatus, UserError

BATCH_LIMIT = 100_000


@st.cache_data(max_entries=16)
def model_results(root: str, versions: tuple) -> dict:
    """Each model's result, read again only when the list of models changes."""
    return {run_id: engine().result(run_id) for run_id, _ in versions}


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
load_model(root, run_id)  # loaded once here, with a spinner, not in the typing fragment


typed(run_id, {i: describe(i) for i in models})

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
        predictions = workbench.predict(run_id, [texts[i] for i in labelled])
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
