"""A demo link (`?demo=RUN`): type a sentence, see the model's label and why; nothing else."""

import streamlit as st

from dashboard.demo_mode import demo_model, demo_run_id
from dashboard.prediction_views import typed
from dashboard.widgets import engine, md, run_name

workbench = engine()
shown = demo_model(workbench, demo_run_id() or "")
if isinstance(shown, str):
    st.title("Demo")
    st.error(md(shown))
    st.stop()
run, result = shown
st.title(md(run.name or "What does this model say?"))
st.caption(
    f"Model: {'/'.join(run.architectures)}, trained on {md(run.dataset.name)} "
    f"({run.dataset.rows:,} texts), labelling texts as {md(' or '.join(result.test.labels))}; "
    f"on texts it never saw in training, macro-F1 {result.test.macro_f1:.3f}. "
    "Type a sentence: the label follows as you pause."
)
typed(run.id, {run.id: run_name(run)})
