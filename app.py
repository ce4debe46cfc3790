"""Entry point: `streamlit run app.py`. A router only; the pages do the work.

Kept free of TensorFlow so the first page opens in a couple of seconds.
"""

import streamlit as st

st.set_page_config(page_title="RNN text workbench", page_icon="🔁", layout="wide")
st.navigation([st.Page("pages/home.py", title="Home", default=True)]).run()
