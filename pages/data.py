"""Data: load a file, see how it was read, choose the text and label columns, confirm."""

import hashlib

import plotly.graph_objects as go
import streamlit as st

from chart_text import chart_labels
from lstm_core.api import MAX_NAME_CHARS, MAX_NOTE_CHARS, LengthProfile, UserError
from widgets import SAMPLES, choose, engine, md, preset

EXAMPLE_CLASSES, EXAMPLE_CHARS = 6, 300


@st.cache_data(show_spinner="Reading the file...", max_entries=8)
def read_cached(data: bytes, filename: str):
    return engine().read_file(data, filename)


@st.cache_data(max_entries=8)
def length_profile(texts: tuple[str, ...]) -> LengthProfile:
    return engine().length_profile(texts)


def saved_datasets() -> None:
    """The datasets already in the workspace: renaming one, a note, deleting one no run uses."""
    workbench = engine()
    datasets = workbench.datasets()
    if not datasets:
        return
    runs_of: dict[str, int] = {}
    for run in workbench.runs():
        runs_of[run.dataset.id] = runs_of.get(run.dataset.id, 0) + 1
    with st.expander(f"Saved datasets ({len(datasets)})"):
        st.dataframe(
            [
                {
                    "dataset": d.id,
                    "name": d.name,
                    "text → label": f"{d.text_column} → {d.label_column}",
                    "texts": d.rows,
                    "runs": runs_of.get(d.id, 0),
                    "note": d.note or "",
                }
                for d in datasets
            ],
            hide_index=True,
        )
        by_id = {d.id: d for d in datasets}
        chosen = st.selectbox(
            "Dataset", list(by_id), format_func=lambda i: f"{by_id[i].describe()} · {i}",
            key="data_saved",
        )  # fmt: skip
        left, right = st.columns(2)
        with (
            left.popover("Name and note", icon=":material/edit:"),
            st.form(f"data_describe_{chosen}", border=False),
        ):
            name = st.text_input(
                "Name",
                value=by_id[chosen].name,
                max_chars=MAX_NAME_CHARS,
                key=f"data_name_{chosen}",
            )
            note = st.text_area(
                "Note",
                value=by_id[chosen].note or "",
                max_chars=MAX_NOTE_CHARS,
                key=f"data_note_{chosen}",
            )
            if st.form_submit_button("Save", key=f"data_describe_save_{chosen}"):
                try:
                    workbench.describe_dataset(chosen, name=name, note=note)
                except UserError as error:
                    st.error(md(error))
                else:
                    st.rerun()
        with right.popover("Delete this dataset", icon=":material/delete:"):
            st.write("Its saved texts are removed; a dataset that runs use cannot be deleted.")
            if st.button("Delete", type="primary", key="data_delete_confirm"):
                try:
                    workbench.delete_dataset(chosen)
                except UserError as error:
                    st.error(md(error))
                else:
                    st.session_state.pop("data_saved", None)
                    st.rerun()


st.title("Data")
saved_datasets()
sources = ["sample", "upload"]
source = choose(
    st.radio,
    "Where is the data?",
    sources,
    "data_source",
    format_func={"sample": "A bundled sample", "upload": "My own file"}.get,
    horizontal=True,
)
if source == "sample":
    sample_name = st.selectbox("Sample", list(SAMPLES), key="data_sample")
    path = SAMPLES[sample_name]
    data, filename = path.read_bytes(), path.name
else:
    uploaded = st.file_uploader(
        "CSV, TSV or TXT file, one text per row", type=["csv", "tsv", "txt"], key="data_upload"
    )
    if uploaded is None:
        st.info(
            "Choose a file. Any encoding and a comma, semicolon, tab or pipe delimiter will do."
        )
        st.stop()
    data, filename = uploaded.getvalue(), uploaded.name

try:
    frame, report = read_cached(data, filename)
except UserError as error:
    st.error(md(error))
    st.stop()
signature = hashlib.sha1(data).hexdigest()[:10]

st.subheader("How the file was read")
st.markdown(
    f"**{report.rows:,} rows** and **{len(report.columns)} columns** from {md(filename)}, "
    f"decoded as **{report.encoding}**, delimiter **{report.delimiter}**, "
    f"{'with a header row' if report.has_header else 'no header row (columns numbered)'}."
)
for warning in report.warnings:
    st.warning(md(warning))
st.dataframe(
    [
        {
            "column": c.name,
            "kind": c.kind,
            "filled": c.filled,
            "distinct": c.distinct,
            "mean length": c.mean_length,
        }
        for c in report.columns
    ],
    hide_index=True,
)
with st.expander("Preview of the first 100 rows", expanded=False):
    st.dataframe(frame.head(100))

st.subheader("Which columns?")
columns = [str(c) for c in frame.columns]
left, right = st.columns(2)
text_column = left.selectbox(
    "Text column",
    columns,
    index=columns.index(report.suggested_text) if report.suggested_text in columns else 0,
    key=f"data_text_{signature}",
)
label_column = right.selectbox(
    "Label column",
    columns,
    index=columns.index(report.suggested_label)
    if report.suggested_label in columns
    else min(1, len(columns) - 1),
    key=f"data_label_{signature}",
)
problems = engine().column_problems(frame, text_column, label_column)
for problem in problems:
    st.error(md(problem))
if not problems:
    for warning in engine().column_warnings(frame, text_column, label_column):
        st.warning(md(warning))

if not problems:
    labels = frame[label_column].str.strip()
    counts = labels[labels != ""].value_counts()
    st.caption("One example per class")
    for label in counts.index[:EXAMPLE_CLASSES]:
        example = frame.loc[labels == label, text_column].iloc[0]
        st.text(f"{label}: {example[:EXAMPLE_CHARS]}")
    profile = length_profile(tuple(frame[text_column].tolist()))
    auto_length = profile.auto_length
    chart_left, chart_right = st.columns(2)
    classes, whole = chart_labels(counts.index)
    balance = go.Figure(
        go.Bar(
            x=classes,
            y=counts.to_numpy(),
            customdata=whole,
            hovertemplate="%{customdata}: %{y:,} texts<extra></extra>",
            marker_color="#2E6FDB",
        )
    )
    balance.update_xaxes(type="category")
    balance.update_layout(title="Class balance", height=320, margin={"t": 40, "b": 10})
    chart_left.plotly_chart(balance, key="data_balance")
    histogram = go.Figure(go.Histogram(x=profile.lengths, nbinsx=60, marker_color="#17BEBB"))
    histogram.add_vline(
        x=auto_length,
        line_dash="dash",
        annotation_text=f"auto sequence length {auto_length}",
        line_color="#E4572E",
    )
    histogram.update_layout(
        title=f"Words per text (longest {profile.longest})",
        height=320,
        margin={"t": 40, "b": 10},
    )
    chart_right.plotly_chart(histogram, key="data_lengths")
    st.caption(
        f"Texts are cut to {auto_length} words (95% of texts fit) unless you choose a length; "
        "padding to the longest text costs much more time and, without masking, stops an LSTM learning."
    )

if st.button(
    "Use these columns for experiments", type="primary", disabled=bool(problems), key="data_confirm"
):
    with st.spinner("Saving the dataset..."):
        dataset, notes = engine().freeze_dataset(frame, text_column, label_column, filename)
    preset("dataset", dataset.id)
    for note in notes:
        st.info(md(note))
    st.success(f"Saved {dataset.rows:,} labelled texts as dataset {dataset.id}.")
    st.page_link("pages/experiment.py", label="Design an experiment", icon=":material/science:")
