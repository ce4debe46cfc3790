"""Entry point: `streamlit run app.py`. A router only; the pages do the work.

Kept free of TensorFlow so the first page opens in a couple of seconds.
"""

import streamlit as st

from pages.shared import sidebar

st.set_page_config(page_title="RNN text workbench", page_icon="🔁", layout="wide")
PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/data.py", title="Data", icon="📄"),
    st.Page("pages/experiment.py", title="Experiment", icon="🧪"),
    st.Page("pages/runs.py", title="Runs", icon="📈"),
    st.Page("pages/compare.py", title="Compare", icon="⚖️"),
    st.Page("pages/predict.py", title="Predict", icon="💬"),
]
page = st.navigation(PAGES)
sidebar()
page.run()
