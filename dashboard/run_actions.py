"""What can be done with a run from the Runs page: name it and keep a note, show or serve
or export its model, resume it, open its design again, delete it."""

import shlex

import streamlit as st

from dashboard import design_memory
from dashboard.demo_mode import demo_link
from dashboard.sign_in import may_change, sign_in_note
from dashboard.widgets import engine, forget, md, preset
from lstm_core.api import MAX_NAME_CHARS, MAX_NOTE_CHARS, MLFLOW_EXPERIMENT, Run, UserError


def name_and_note(run: Run) -> None:
    """A name a class will recognise in every list, and a note on what was tried."""
    if run.note:
        st.caption(md(run.note))
    if not may_change():
        return
    with (
        st.popover("Name and note", icon=":material/edit:"),
        st.form(f"runs_describe_{run.id}", border=False),
    ):
        name = st.text_input(
            "Name", value=run.name or "", max_chars=MAX_NAME_CHARS, key=f"runs_name_{run.id}"
        )
        note = st.text_area(
            "Note", value=run.note or "", max_chars=MAX_NOTE_CHARS, key=f"runs_note_{run.id}"
        )
        if st.form_submit_button("Save", key=f"runs_describe_save_{run.id}"):
            try:
                engine().describe_run(run.id, name=name, note=note)
            except UserError as error:
                st.error(md(error))
            else:
                st.rerun()


def share(run: Run) -> None:
    """A demo link, the command that serves the model as a REST API, an export to MLflow."""
    workbench = engine()
    st.markdown(
        "**Show it** to an audience: this link opens Predict for this model alone, with no "
        "way to the other pages or runs (it hides them; sign-in is what guards them):"
    )
    st.code(demo_link(run.id), language=None)
    home = shlex.quote(str(workbench.root))  # whichever folder the terminal is in
    st.markdown("**Serve it** as a REST API (its docs at /docs), from a terminal:")
    st.code(f"LSTM_CORE_HOME={home} lstm-core serve {run.id}", language="bash")
    if not may_change():
        return
    with st.popover("Export to MLflow", icon=":material/ios_share:"):
        missing = workbench.mlflow_missing()
        if missing:
            st.info(md(missing))
            return
        with st.form(f"runs_mlflow_{run.id}", border=False):
            uri = st.text_input(
                "Tracking URI", value=workbench.default_tracking_uri(), key="runs_mlflow_uri"
            )
            experiment = st.text_input(
                "Experiment", value=MLFLOW_EXPERIMENT, key="runs_mlflow_experiment"
            )
            if st.form_submit_button("Export", key="runs_mlflow_export"):
                try:
                    with st.spinner("Writing the run, its candidates and its model to MLflow..."):
                        exported = workbench.export_mlflow(run.id, uri, experiment)
                except UserError as error:
                    st.error(md(error))
                else:
                    st.success(md(exported.describe()))


def housekeeping(run: Run) -> None:
    """Resume an unfinished run, open its design again, delete it (after a confirmation)."""
    workbench = engine()
    left, middle, right = st.columns(3)
    if middle.button(
        "Run again",
        icon=":material/replay:",
        key="runs_again",
        help="Open this run's design in Experiment, to change it or launch it as it is.",
    ):
        design_memory.load(run.spec)
        preset("dataset", run.dataset.id)
        st.switch_page("pages/experiment.py")
    if not sign_in_note("rename, note, resume, export or delete this run"):
        return
    if run.status.resumable and left.button(
        "Resume this run",
        key="runs_resume",
        help="Queue it again: its finished fits are kept, the rest are trained.",
    ):
        try:
            workbench.resume(run.id)
        except UserError as error:
            st.error(md(error))
        else:
            st.rerun()
    with right.popover("Delete this run", icon=":material/delete:"):
        st.write("Its results, curves and saved model are removed for good.")
        if st.button("Delete", type="primary", key="runs_delete_confirm"):
            try:
                workbench.delete_run(run.id)
            except UserError as error:
                st.error(md(error))
            else:
                forget("run")
                st.rerun()
