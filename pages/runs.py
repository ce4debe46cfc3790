"""Runs: every run with its status; the chosen one live while it trains, in full when it ends."""

import shlex

import plotly.graph_objects as go
import streamlit as st

from dashboard import design_memory
from dashboard.chart_text import chart_labels
from dashboard.demo_mode import demo_link
from dashboard.learning_curves import candidate_groups, learning_curves
from dashboard.search_plots import optimization_history
from dashboard.starting_point import start_summary
from dashboard.widgets import (
    SAFE_LINK,
    age,
    choose,
    confusion_heatmap,
    duration,
    engine,
    forget,
    md,
    metrics_table,
    preset,
    run_label,
)
from lstm_core.api import (
    BAYESIAN,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MLFLOW_EXPERIMENT,
    SCORING_NAMES,
    Evaluation,
    Run,
    RunStatus,
    UserError,
    candidate_labels,
    pruned_candidates,
)

REFRESH_S = 2
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX"}
LOG_LINES = 30
ENDED_MESSAGES = {
    RunStatus.CANCELLED: "This run was cancelled.",
    RunStatus.INTERRUPTED: "This run was interrupted.",
}


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
    study = workbench.study(run.id)
    figure = study and optimization_history(study, f"CV {SCORING_NAMES[run.spec.scoring]}")
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


@st.fragment(run_every=REFRESH_S)
def live(run_id: str) -> None:
    """Redrawn every couple of seconds while the run is queued or running.

    A fragment's reruns do not pass through app.py, so it says what went wrong itself.
    """
    workbench = engine()
    try:
        workbench.refresh()
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
    if st.button("Cancel this run", key="runs_cancel"):
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


def roc_and_pr(test: Evaluation, baseline: Evaluation) -> None:
    if test.roc_curve is None:
        return
    left, right = st.columns(2)
    roc, pr = go.Figure(), go.Figure()
    for name, result, dash in (
        ("recurrent model", test, "solid"),
        ("TF-IDF baseline", baseline, "dash"),
    ):
        if result.roc_curve is not None:
            roc.add_trace(
                go.Scatter(
                    x=result.roc_curve.fpr, y=result.roc_curve.tpr, name=name, line={"dash": dash}
                )
            )
            pr.add_trace(
                go.Scatter(
                    x=result.pr_curve.recall,
                    y=result.pr_curve.precision,
                    name=name,
                    line={"dash": dash},
                )
            )
    positive = chart_labels([test.positive_label]).ticks[0]  # cut: a title does not wrap
    roc.update_layout(
        title=f"ROC ({positive} positive), AUC {test.roc_auc:.3f}",
        xaxis_title="false positive rate",
        yaxis_title="true positive rate",
        height=340,
    )
    pr.update_layout(
        title=f"Precision-recall, AUC {test.pr_auc:.3f}",
        xaxis_title="recall",
        yaxis_title="precision",
        height=340,
    )
    left.plotly_chart(roc, key="runs_roc")
    right.plotly_chart(pr, key="runs_pr")


def name_and_note(run: Run) -> None:
    """A name a class will recognise in every list, and a note on what was tried."""
    if run.note:
        st.caption(md(run.note))
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


def finished(run: Run) -> None:
    workbench = engine()
    lost = workbench.files_problem(run)
    if lost is not None:
        st.warning(f"{md(lost)} Delete the run below, or train it again.")
    result = workbench.result(run.id)
    if result is None:
        st.error(md(run.error) if run.error else ENDED_MESSAGES.get(run.status, run.status))
        if run.traceback:
            with st.expander("Technical details (traceback)"):
                st.code(run.traceback, language=None)
        progress = workbench.progress(run.id)
        st.caption(f"{progress.fits_summary()}.")
        cluster_workers(run)
        housekeeping(run)
        curves(run.id, "runs_done_curves", run.status)
        return
    test, baseline = result.test, result.baseline
    cv_accuracy = f", accuracy {result.cv_accuracy:.3f}" if result.cv_accuracy is not None else ""
    floor = (
        f"; always answering the most frequent class: accuracy {result.majority.accuracy:.3f}"
        if result.majority
        else ""
    )
    st.success(
        f"Best: {md(result.describe_best())} (cross-validated "
        f"{SCORING_NAMES[result.scoring]} {result.cv_best_score:.3f}{cv_accuracy}). "
        f"On the {result.n_test:,} held-out texts: accuracy {test.accuracy:.3f}, "
        f"macro-F1 {test.macro_f1:.3f}; the TF-IDF baseline: accuracy "
        f"{baseline.accuracy:.3f}, macro-F1 {baseline.macro_f1:.3f}{floor}."
    )
    started = start_summary(workbench, run, result)
    if started:
        st.info(md(started), icon=":material/move_down:")
    beaten = result.baseline_wins()
    if beaten:
        st.warning(
            f"The TF-IDF baseline beats the recurrent model here on {' and '.join(beaten)}: "
            "more epochs or another design may help."
        )
    st.dataframe(metrics_table(test, baseline, result.majority), hide_index=True)
    left, right = st.columns(2)
    left.plotly_chart(
        confusion_heatmap(test.confusion_matrix, test.labels, "Recurrent model"), key="runs_cm"
    )
    right.plotly_chart(
        confusion_heatmap(baseline.confusion_matrix, baseline.labels, "TF-IDF baseline"),
        key="runs_cm_base",
    )
    st.dataframe(
        [
            {
                "class": label,
                "precision": round(scores.precision, 4),
                "recall": round(scores.recall, 4),
                "f1": round(scores.f1, 4),
                "support": scores.support,
            }
            for label, scores in test.per_class.items()
        ],
        hide_index=True,
    )
    roc_and_pr(test, baseline)
    st.caption(
        f"Texts cut at {result.sequence_length} words (longest {result.longest_text_tokens}), "
        f"vocabulary {result.vocabulary_size:,}, {workbench.progress(run.id).fits_summary()} "
        f"in {duration(result.search_seconds)}, median {result.median_epoch_seconds} s per epoch"
        + (
            f", trained on {BACKEND_NAMES.get(result.backend, result.backend)}."
            if result.backend
            else "."
        )
    )
    cluster_workers(run)
    curves(run.id, "runs_done_curves", run.status)
    search_history(run, "runs_done_history")
    st.page_link(
        "pages/predict.py", label="Try the model on your own sentences", icon=":material/chat:"
    )
    st.page_link("pages/errors.py", label="See where it goes wrong", icon=":material/rule:")
    st.download_button(
        "Download as a Python script",
        workbench.code(run.id, f"train_{run.id}.py"),
        file_name=f"train_{run.id}.py",
        mime="text/x-python",
        key="runs_code",
        help="The best configuration in plain Keras + scikeras + scikit-learn, the code you "
        "would write in class: python train_RUN.py DATA.csv",
    )
    share(run)
    housekeeping(run)


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
