"""Demo links (`?demo=RUN`): one model's Predict for an audience, and nothing else.

A demo link shows no navigation, no other run and nothing that trains, renames or deletes.
It hides those parts; it does not guard them: anyone who can reach the dashboard can still
open its other pages by editing the address (sign-in, when configured, is what guards them).
"""

from typing import NamedTuple
from urllib.parse import urlencode, urljoin

import streamlit as st

from lstm_core.api import Engine, Run, RunResult, RunStatus, UserError

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


class DemoModel(NamedTuple):
    run: Run
    result: RunResult


def demo_model(workbench: Engine, run_id: str) -> DemoModel | str:
    """The run a demo link names with its result, or why it shows nothing (one sentence)."""
    try:
        run = workbench.run(run_id)
    except UserError:
        return (
            f"This demo link names run {run_id}, which is not in this workspace (it may have "
            "been deleted). Ask whoever shared it for a new link."
        )
    if run.status != RunStatus.COMPLETED:
        later = " once it has finished" if run.status.active else ""
        return (
            f"Run {run_id} is {run.status.value}: a demo link shows the model of a completed "
            f"run. Ask whoever shared it for a new link{later}."
        )
    gone = workbench.files_problem(run)
    result = workbench.result(run_id) if gone is None and workbench.has_model(run_id) else None
    if result is None:
        return gone or f"Run {run_id} has no saved model to show."
    return DemoModel(run, result)
