"""Runs: every run with its status; the chosen one live while it trains, in full when it ends
(the views are dashboard.run_views, run_results and run_actions)."""

import streamlit as st

from dashboard.run_actions import name_and_note
from dashboard.run_results import finished
from dashboard.run_views import cluster_workers, curves, search_history
from dashboard.sign_in import may_change
from dashboard.widgets import age, choose, duration, engine, md, run_label
from lstm_core.api import RunStatus, UserError

REFRESH_S = 2
LOG_LINES = 30


@st.fragment(run_every=REFRESH_S)
def live(run_id: str) -> None:
    """Redrawn every couple of seconds while the run is queued or running.

    A fragment's reruns do not pass through app.py, so it says what went wrong itself.
    """
    workbench = engine()
    try:
        workbench.reap()
        progress = workbench.progress(run_id)
    except UserError as error:  # a full disk or a damaged database, say
        st.error(md(error))
        return
    if not progress.status.active:
        st.rerun()
    if progress.status == RunStatus.QUEUED:
        st.info(md(workbench.queue_note(run_id)), icon=":material/hourglass_top:")
        when = "waiting in the queue"
    else:
        eta = f" · about {duration(progress.eta_s)} left" if progress.eta_s is not None else ""
        when = f"{duration(progress.elapsed_s)} elapsed{eta}"
    st.progress(progress.fraction, text=f"{progress.fits_summary()} · {when}")
    if may_change() and st.button("Cancel this run", key="runs_cancel"):
        try:
            st.toast(f"Run {run_id}: {workbench.cancel(run_id)}")
        except UserError as error:
            st.warning(md(error))
    run = workbench.run(run_id)
    cluster_workers(run)
    curves(run_id, "runs_live_curves", progress.status)
    search_history(run, "runs_live_history")
    with st.expander("Worker log"):
        st.code(workbench.worker_log(run_id, LOG_LINES) or "(empty)", language=None)


st.title("Runs")
workbench = engine()
runs = workbench.runs()
if not runs:
    if st.query_params.get("run"):
        st.info(
            f"Run {md(st.query_params['run'])} is not in this workspace (it may have been deleted)."
        )
    st.info("No runs yet: design one on the Experiment page.")
    st.page_link("pages/experiment.py", label="Go to Experiment", icon=":material/science:")
    st.stop()


def runs_table(drawn: dict[str, RunStatus]) -> None:
    """Every run with its fits so far; redrawn while any run is active, and the whole page
    once a status differs from what the page drew (so pickers never say "running" late)."""
    try:
        now = engine().runs()
    except UserError as error:  # a fragment's reruns skip app.py's handler
        st.error(md(error))
        return
    if {r.id: r.status for r in now} != drawn:
        st.rerun()
    st.dataframe(
        [
            {
                "run": r.id,
                "name": r.name or "",
                "status": r.status.value,
                "dataset": r.dataset.describe(),
                "architectures": "/".join(r.architectures),
                "fits": f"{r.trials_done}/{r.trials_total or '?'}",
                "started": age(r.created_at),
                "note": r.note or "",
            }
            for r in now
        ],
        hide_index=True,
    )


any_active = any(r.status.active for r in runs)
st.fragment(runs_table, run_every=REFRESH_S if any_active else None)({r.id: r.status for r in runs})
by_id = {r.id: r for r in runs}
chosen = choose(
    st.selectbox,
    "Run",
    list(by_id),
    "run",
    missing=lambda wanted: (
        f"Run {md(wanted)} is not in this workspace (it may have been deleted); "
        f"showing the newest run, {runs[0].id}."
    ),
    format_func=lambda i: run_label(by_id[i]),
    version=[(r.id, r.status, r.name) for r in runs],
)
name_and_note(by_id[chosen])
if by_id[chosen].status.active:
    live(chosen)
else:
    finished(by_id[chosen])
