"""The Experiment page's "Where the fits run": this machine, or a Dask cluster.

The scheduler's address belongs to the browser tab, not to a dataset's design: it starts
from `$LSTM_CORE_DASK_SCHEDULER` and stays while the tab is open (Streamlit forgets a
widget another page does not draw, so the value is mirrored in session state). The check
connects once and says what is there, so a typo is found before a run is sent.
"""

from __future__ import annotations

import streamlit as st

from dashboard.widgets import SAFE_LINK, md
from lstm_core.api import ClusterInfo, Engine, UserError

ADDRESS = "_cluster_address"
FIELD = "settings_cluster"
CHECKED = "_cluster_checked"  # the ClusterInfo of the last check that reached a scheduler


def where_fits_run(workbench: Engine) -> str:
    """Draw the setting; the address to send the run's fits to, or '' for this machine."""
    if ADDRESS not in st.session_state:
        st.session_state[ADDRESS] = workbench.default_cluster()
    if FIELD not in st.session_state:
        st.session_state[FIELD] = st.session_state[ADDRESS]
    with st.expander("Where the fits run", expanded=bool(st.session_state[FIELD].strip())):
        address = st.text_input(
            "Dask scheduler address (empty: this machine)",
            key=FIELD,
            placeholder="tcp://HOST:8786",
            help="A running `dask scheduler` whose workers have this package installed: "
            "each fit becomes a Dask task there, and its epochs come back here live.",
        ).strip()
        st.session_state[ADDRESS] = address
        if not address:
            st.caption("Fits run in processes on this machine.")
            return ""
        if st.button("Check the cluster", key="settings_cluster_check"):
            try:
                st.session_state[CHECKED] = workbench.check_cluster(address)
            except UserError as error:
                st.session_state.pop(CHECKED, None)
                st.error(md(error))
        checked: ClusterInfo | None = st.session_state.get(CHECKED)
        if checked is not None and checked.scheduler == address:
            st.success(
                f"{checked.workers} worker(s), {checked.threads} thread(s) at "
                f"{md(checked.scheduler)}: up to {checked.workers} fits at once."
            )
            if checked.dashboard and SAFE_LINK.match(checked.dashboard):
                st.markdown(f"[Dask's own dashboard]({checked.dashboard})")
    return address
