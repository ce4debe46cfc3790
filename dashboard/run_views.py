"""What the Runs page shows of a run while it trains and after it ends: its learning
curves, a Bayesian search's history, and what each worker of a cluster did."""

import streamlit as st

from dashboard.learning_curves import candidate_groups, learning_curves
from dashboard.search_plots import optimization_history
from dashboard.widgets import SAFE_LINK, engine, md
from lstm_core.api import (
    BAYESIAN,
    SCORING_NAMES,
    Run,
    RunStatus,
    candidate_labels,
    pruned_candidates,
)


def curves(run_id: str, key: str, status: RunStatus) -> None:
    """The overview of every candidate, or one candidate's folds (picked below the title)."""
    workbench = engine()
    epochs = workbench.epochs(run_id)
    if not epochs:
        if status == RunStatus.RUNNING:
            st.info(
                "Waiting for the first epoch: the worker loads TensorFlow and builds the "
                "first model."
            )
        elif status.finished:
            st.caption("No epoch was recorded before the run ended.")
        return
    trials = workbench.trials(run_id)
    groups = candidate_groups(trials)
    focus = None
    if len(groups) > 1 or any(len(folds) > 1 for folds in groups.values()):
        labels = candidate_labels(trials)
        focus = st.selectbox(
            "Learning curves of",
            [None, *groups],
            format_func=lambda g: (
                "every candidate (mean over folds, band: lowest to highest)"
                if g is None
                else f"{labels[g]}: each fold"
            ),
            key=f"{key}_focus",
        )
    st.plotly_chart(learning_curves(epochs, trials, focus), key=key)


def search_history(run: Run, key: str) -> None:
    """A Bayesian run's best CV score so far against the candidate number."""
    if run.spec.search not in BAYESIAN:
        return
    workbench = engine()
    st.markdown("**Optimization history**: each scored candidate, and the best so far")
    history = workbench.search_history(run.id)
    figure = history and optimization_history(history, f"CV {SCORING_NAMES[run.spec.scoring]}")
    if figure is None:
        st.caption("It appears once the first candidate has a score on every fold.")
    else:
        st.plotly_chart(figure, key=key)
    trials = workbench.trials(run.id)
    pruned = sorted(pruned_candidates(trials))
    if pruned:
        st.caption(
            f"Pruned (stopped after an epoch, clearly behind): candidate(s) "
            f"{', '.join(str(c + 1) for c in pruned)}; their epochs stay in the learning curves."
        )


def cluster_workers(run: Run) -> None:
    """For a run whose fits went to a Dask cluster: what each worker did, and a link to
    Dask's own dashboard (its task stream, memory and worker logs)."""
    if not run.spec.cluster:  # most runs: no store read for them
        return
    view = engine().cluster_view(run.id)
    if view.cluster is None:
        st.caption(f"Its fits go to the Dask cluster at {md(run.spec.cluster)}.")
        return
    cluster = view.cluster
    st.markdown(
        f"**On the Dask cluster** at {md(cluster.scheduler)}: {cluster.workers} worker(s) "
        "when the run started."
    )
    if cluster.dashboard and SAFE_LINK.match(cluster.dashboard):
        st.markdown(f"[Dask's own dashboard]({cluster.dashboard}): tasks, memory, worker logs.")
    else:
        st.caption("Its scheduler serves no dashboard (install bokeh beside it for one).")
    if view.workers:
        st.dataframe(
            [
                {
                    "worker": w.worker,
                    "fits done": w.completed,
                    "running": w.running,
                    "lost or stopped": w.interrupted,
                    "failed": w.failed,
                }
                for w in view.workers
            ],
            hide_index=True,
        )
