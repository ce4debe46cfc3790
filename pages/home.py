"""Home: what the workbench does, and the two ways in."""

import streamlit as st

from dashboard.sign_in import exposure_warning
from dashboard.widgets import SAMPLES, preset

st.title("Recurrent text classification workbench")
exposure_warning()
st.markdown(
    "Find out which recurrent network works on your texts, and how well, without writing code.\n\n"
    "1. **Data**: load a CSV of texts and labels (the SMS spam collection is the classic case), "
    "check how it was read, and pick the text and label columns.\n"
    "2. **Experiment**: choose SimpleRNN, LSTM, GRU, BiLSTM, BiGRU (or a 1-D CNN, for "
    "contrast) and a grid of "
    "hyperparameters (optimizer, initialisation, dropout, units, batch size, epochs, ...).\n"
    "3. **Runs, Compare, Predict**: watch the models learn live, compare them with a TF-IDF "
    "baseline and each other, then type sentences to see what the best one predicts."
)
left, right = st.columns(2)
with left:
    st.subheader("New here?")
    st.write("Start with the bundled SMS spam sample: 1,500 synthetic messages, 15% spam.")
    if st.button("Use the sample data", type="primary", key="home_sample"):
        preset("data_source", "sample")
        st.session_state["data_sample"] = next(iter(SAMPLES))
        st.switch_page("pages/data.py")
with right:
    st.subheader("Have a CSV?")
    st.write("Upload a CSV, TSV or TXT file with one text per row and a label column.")
    if st.button("Upload a file", key="home_upload"):
        preset("data_source", "upload")
        st.switch_page("pages/data.py")
