"""Data: load a file, see how it was read, choose the text and label columns, confirm."""

import hashlib

import plotly.graph_objects as go
import streamlit as st

from dashboard.chart_text import chart_labels
from dashboard.sign_in import may_change, sign_in_note
from dashboard.widgets import SAMPLES, choose, engine, md, preset
from lstm_core.api import (
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    LengthProfile,
    MarkupShare,
    RepeatSummary,
    UserError,
)

EXAMPLE_CLASSES, EXAMPLE_CHARS = 6, 300
AUTO = "auto"
ENCODINGS = (
    AUTO, "utf-8", "cp1252", "latin-1", "utf-16", "cp1250", "cp1251", "cp1253", "cp1254",
    "cp1256", "iso-8859-15", "mac_roman", "gb18030", "big5", "shift_jis", "euc-kr",
)  # fmt: skip


def read_once(data: bytes, filename: str, encoding: str, sheet: str | None):
    """Read a file once per choice of encoding and sheet, with a progress bar (a 60 MB file
    takes many seconds); reruns of the page reuse the last reading."""
    key = (hashlib.sha1(data).hexdigest(), filename, encoding, sheet)
    kept = st.session_state.get("data_reading")
    if kept is not None and kept[0] == key:
        return kept[1]
    bar = st.progress(0.0, text="Reading the file...")
    try:
        result = engine().read_file(
            data,
            filename,
            encoding=None if encoding == AUTO else encoding,
            sheet=sheet,
            progress=lambda share, stage: bar.progress(share, text=f"{stage}..."),
        )
    finally:
        bar.empty()
    st.session_state["data_reading"] = (key, result)
    return result


def encoding_picker(key: str, guessed: str | None) -> None:
    """The encoding a person can choose over the guess; the page rereads the file with it."""
    st.selectbox(
        "Encoding",
        ENCODINGS,
        format_func=lambda e: f"auto ({guessed})" if e == AUTO and guessed else e,
        key=key,
        help="How the file's bytes become letters. Choose another when the text looks wrong.",
    )


def sheet_picker(key: str, sheets: list[str], read: str | None) -> None:
    """The workbook's sheet, read or chosen; shown beside an error too, so that a sheet
    too small to read is not where the page gets stuck."""
    current = st.session_state.get(key) or read
    st.selectbox("Sheet", sheets, index=sheets.index(current) if current in sheets else 0, key=key)


@st.cache_data(max_entries=8)
def length_profile(texts: tuple[str, ...], strip_html: bool = False) -> LengthProfile:
    return engine().length_profile(texts, strip_html)


@st.cache_data(max_entries=8)
def markup(texts: tuple[str, ...]) -> MarkupShare:
    return engine().markup_share(texts)


@st.cache_data(max_entries=8)
def repeats(texts: tuple[str, ...]) -> RepeatSummary:
    return engine().repeat_summary(texts)


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
            left.popover("Name and note", icon=":material/edit:", disabled=not may_change()),
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
        with right.popover(
            "Delete this dataset", icon=":material/delete:", disabled=not may_change()
        ):
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
        "A table with one text per row: CSV, TSV, TXT, Excel, JSON Lines or Parquet "
        "(gzip or zip too)",
        key="data_upload",
    )
    if uploaded is None:
        st.info(
            "Choose a file; it is judged by its content, whatever its name. Any encoding and a "
            "comma, semicolon, tab or pipe delimiter will do."
        )
        st.stop()
    data, filename = uploaded.getvalue(), uploaded.name

signature = hashlib.sha1(data).hexdigest()[:10]
encoding_key, sheet_key = f"data_encoding_{signature}", f"data_sheet_{signature}"
sheets_key = f"data_sheets_{signature}"  # the workbook's sheets, from the last reading
try:
    frame, report = read_once(
        data, filename, st.session_state.get(encoding_key, AUTO), st.session_state.get(sheet_key)
    )
except UserError as error:
    st.error(md(error))
    if st.session_state.get(encoding_key, AUTO) != AUTO:
        encoding_picker(encoding_key, None)
    if st.session_state.get(sheet_key) is not None:
        sheet_picker(sheet_key, st.session_state.get(sheets_key, []), None)
    st.stop()
st.session_state[sheets_key] = report.sheets

st.subheader("How the file was read")
delimiter = f", delimiter **{report.delimiter}**" if report.reading.delimiter else ""
st.markdown(
    f"**{report.rows:,} rows** and **{len(report.columns)} columns** from {md(filename)}, "
    f"read as {md(report.reading.describe())}{delimiter}, "
    f"{'with a header row' if report.has_header else 'no header row (columns numbered)'}."
)
encoding_column, sheet_column = st.columns(2)
if report.reading.encoding is not None:
    with encoding_column:
        encoding_picker(encoding_key, report.encoding)
if len(report.sheets) > 1:
    with sheet_column:
        sheet_picker(sheet_key, report.sheets, report.reading.sheet)
for warning in report.warnings:
    st.warning(md(warning))
if report.undecodable_examples:
    st.caption("Rows with bytes that could not be decoded, for example:")
    for example in report.undecodable_examples:
        st.text(example)
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
    texts = tuple(frame[text_column].tolist())
    profile = length_profile(texts)
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
    repeated = repeats(texts).describe()
    if repeated:
        st.caption(md(repeated))
    share = markup(texts)
    if share.with_markup:
        stripped = length_profile(texts, strip_html=True).auto_length
        shorter = (
            f": the auto length becomes {stripped} words, not {auto_length}"
            if stripped != auto_length
            else ""
        )
        st.info(
            md(share.describe())
            + "; the Experiment page's 'strip HTML' setting (under Text) removes them"
            + (
                f" and is on for this data{shorter}."
                if share.suggest_strip
                else " (off by default: so few texts hold a tag)."
            )
        )

if sign_in_note("save a dataset") and st.button(
    "Use these columns for experiments", type="primary", disabled=bool(problems), key="data_confirm"
):
    with st.spinner("Saving the dataset..."):
        dataset, notes = engine().freeze_dataset(
            frame, text_column, label_column, filename, reading=report.reading
        )
    preset("dataset", dataset.id)
    for note in notes:
        st.info(md(note))
    st.success(f"Saved {dataset.rows:,} labelled texts as dataset {dataset.id}.")
    st.page_link("pages/experiment.py", label="Design an experiment", icon=":material/science:")
