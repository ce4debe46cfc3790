"""Demo links (`?demo=RUN`): one model's Predict for an audience, and nothing else.

A demo link shows no navigation, no other run and nothing that trains, renames or deletes.
It hides those parts; it does not guard them: anyone who can reach the dashboard can still
open its other pages by editing the address (sign-in, when configured, is what guards them).
"""

from urllib.parse import urlencode, urljoin

import streamlit as st

from lstm_core.api import Engine, Run, RunStatus, UserError

DEMO_PARAMETER = "demo"


def demo_run_id() -> str | None:
    """The run a demo link names, or None when this is not a demo link."""
    value = st.query_params.get(DEMO_PARAMETER, "").strip()
    return value or None


def demo_link(run_id: str) -> str:
    """The address of `run_id`'s demo, from the address this page was opened with."""
    query = "?" + urlencode({DEMO_PARAMETER: run_id})
    base = st.context.url  # the app's address, without the page's path or query
    return urljoin(base.rstrip("/") + "/", query) if base else "/" + query


def demo_problem(workbench: Engine, run_id: str) -> tuple[Run | None, str | None]:
    """The run a demo link names, or why it shows nothing (one sentence)."""
    try:
        run = workbench.run(run_id)
    except UserError:
        return None, (
            f"This demo link names run {run_id}, which is not in this workspace (it may have "
            "been deleted). Ask whoever shared it for a new link."
        )
    if run.status != RunStatus.COMPLETED:
        later = " once it has finished" if run.status.active else ""
        return None, (
            f"Run {run_id} is {run.status.value}: a demo link shows the model of a completed "
            f"run. Ask whoever shared it for a new link{later}."
        )
    gone = workbench.files_problem(run)
    if gone is not None or not workbench.has_model(run_id) or workbench.result(run_id) is None:
        return None, gone or f"Run {run_id} has no saved model to show."
    return run, None
