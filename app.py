"""Entry point: `streamlit run app.py`. A router only; the pages do the work.

Kept free of TensorFlow so the first page opens in a couple of seconds.
"""

import streamlit as st

from dashboard.demo_mode import demo_run_id
from dashboard.widgets import md, sidebar
from lstm_core.api import UserError

st.set_page_config(page_title="RNN text workbench", page_icon=":material/cycle:", layout="wide")
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/description:"),
    st.Page("pages/experiment.py", title="Experiment", icon=":material/science:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/monitoring:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/errors.py", title="Errors", icon=":material/rule:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/chat:"),
]
DEMO = [st.Page("pages/demo.py", title="Demo", icon=":material/chat:", default=True)]
demo = demo_run_id() is not None  # one model's Predict for an audience, nothing else
page = st.navigation(DEMO if demo else PAGES, position="hidden")  # the sidebar draws links
try:  # a damaged or read-only workspace: one sentence that says what to do, no traceback
    if not demo:
        sidebar(PAGES)
    page.run()
except UserError as error:
    st.error(md(error))
