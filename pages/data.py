"""Data: load a file, see how it was read, choose the text and label columns, confirm."""

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lstm_core.datasets import freeze_dataset
from lstm_core.errors import UserError
from lstm_core.intake import read_table
from lstm_core.validation import column_problems, select_columns
from lstm_core.vectorizer import SequenceVectorizer
from widgets import SAMPLES, choose, md, preset, workspace

CHECK_CV, CHECK_TEST_SIZE = 3, 0.2
LENGTH_SAMPLE = 20_000
EXAMPLE_CLASSES, EXAMPLE_CHARS = 6, 300


@st.cache_data(show_spinner="Reading the file...", max_entries=8)
def read_cached(data: bytes, filename: str):
    return read_table(data, filename)


@st.cache_data(max_entries=8)
def token_lengths(texts: tuple[str, ...]) -> np.ndarray:
    tokenize = SequenceVectorizer().tokenize
    return np.fromiter((len(tokenize(t)) for t in texts), dtype=np.int64, count=len(texts))


st.title("Data")
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
problems = column_problems(frame, text_column, label_column, CHECK_CV, CHECK_TEST_SIZE)
for problem in problems:
    st.error(md(problem))

if not problems:
    labels = frame[label_column].str.strip()
    counts = labels[labels != ""].value_counts()
    st.caption("One example per class")
    for label in counts.index[:EXAMPLE_CLASSES]:
        example = frame.loc[labels == label, text_column].iloc[0]
        st.text(f"{label}: {example[:EXAMPLE_CHARS]}")
    texts = frame[text_column]
    sample = texts if len(texts) <= LENGTH_SAMPLE else texts.sample(LENGTH_SAMPLE, random_state=0)
    lengths = token_lengths(tuple(sample.tolist()))
    auto_length = int(max(1, np.ceil(np.percentile(lengths, 95))))
    chart_left, chart_right = st.columns(2)
    balance = go.Figure(
        go.Bar(x=[str(x) for x in counts.index], y=counts.to_numpy(), marker_color="#2E6FDB")
    )
    balance.update_layout(title="Class balance", height=320, margin={"t": 40, "b": 10})
    chart_left.plotly_chart(balance, key="data_balance")
    histogram = go.Figure(go.Histogram(x=lengths, nbinsx=60, marker_color="#17BEBB"))
    histogram.add_vline(
        x=auto_length,
        line_dash="dash",
        annotation_text=f"auto sequence length {auto_length}",
        line_color="#E4572E",
    )
    histogram.update_layout(
        title=f"Words per text (longest {int(lengths.max())})",
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
    chosen = select_columns(frame, text_column, label_column, CHECK_CV, CHECK_TEST_SIZE)
    with st.spinner("Saving the dataset..."):
        dataset_id = freeze_dataset(workspace(), chosen, filename, text_column, label_column)
    preset("dataset", dataset_id)
    for note in chosen.notes:
        st.info(md(note))
    st.success(f"Saved {len(chosen.texts):,} labelled texts as dataset {dataset_id}.")
    st.page_link("pages/experiment.py", label="Design an experiment", icon=":material/science:")
