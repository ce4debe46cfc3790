"""Home: what the workbench does, and a first look at the bundled sample data."""

from pathlib import Path

import streamlit as st

from lstm_core.intake import read_path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "sms_spam.csv"


@st.cache_data
def load_sample(path: str):
    return read_path(path)


st.title("Recurrent text classification workbench")
st.markdown(
    "1. **Data**: load a CSV of texts and labels (the SMS spam collection is the classic).\n"
    "2. **Experiment**: pick SimpleRNN / LSTM / GRU / BiLSTM and grids of hyperparameters.\n"
    "3. **Results**: watch them train, compare them against a TF-IDF baseline, and predict."
)
st.info(
    "The full dashboard is being built. Meanwhile the same engine runs from the command line: "
    "`lstm-core train sample_data/sms_spam.csv --text message --label label --arch lstm --arch gru`."
)

frame, report = load_sample(str(SAMPLE))
st.subheader("Bundled sample: sms_spam.csv")
st.write(
    f"{report.rows:,} rows, read as {report.encoding} with a {report.delimiter} delimiter; "
    f"suggested text column `{report.suggested_text}`, label column `{report.suggested_label}`."
)
for warning in report.warnings:
    st.caption(warning)
st.dataframe(frame.head(20), width="stretch")
