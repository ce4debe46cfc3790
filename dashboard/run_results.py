"""A run that ended, on the Runs page: its scores against the baselines, the confusion
matrices and curves, how it was trained, and what to do next; or, without a result, why."""

import plotly.graph_objects as go
import streamlit as st

from dashboard.chart_text import chart_labels
from dashboard.run_actions import housekeeping, share
from dashboard.run_views import cluster_workers, curves, search_history
from dashboard.starting_point import start_summary
from dashboard.widgets import confusion_heatmap, duration, engine, md, metrics_table
from lstm_core.api import (
    SCORING_NAMES,
    Evaluation,
    RepeatedTexts,
    Run,
    RunResult,
    RunStatus,
)

BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX"}
ENDED_MESSAGES = {
    RunStatus.CANCELLED: "This run was cancelled.",
    RunStatus.INTERRUPTED: "This run was interrupted.",
}


def finished(run: Run) -> None:
    """The whole view of a run that ended: its result, or why it has none."""
    lost = engine().files_problem(run)
    if lost is not None:
        st.warning(f"{md(lost)} Delete the run below, or train it again.")
    result = engine().result(run.id)
    if result is None:
        without_result(run)
        return
    summary(run, result)
    scores(result.test, result.baseline, result.majority)
    how_trained(run, result)
    cluster_workers(run)
    curves(run.id, "runs_done_curves", run.status)
    search_history(run, "runs_done_history")
    next_steps(run)
    share(run)
    housekeeping(run)


def without_result(run: Run) -> None:
    """A run that failed, was cancelled or was interrupted: why, and what it did."""
    st.error(md(run.error) if run.error else ENDED_MESSAGES.get(run.status, run.status))
    if run.traceback:
        with st.expander("Technical details (traceback)"):
            st.code(run.traceback, language=None)
    st.caption(f"{engine().progress(run.id).fits_summary()}.")
    cluster_workers(run)
    housekeeping(run)
    curves(run.id, "runs_done_curves", run.status)


def summary(run: Run, result: RunResult) -> None:
    """The best candidate and its held-out scores beside the baselines', in words."""
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
    st.caption(repeats_note(run, result))
    started = start_summary(engine(), run, result)
    if started:
        st.info(md(started), icon=":material/move_down:")
    advice = engine().baseline_advice(result)
    if advice:
        head, *tips = advice
        st.warning("\n".join([md(head), *(f"- {md(tip)}" for tip in tips)]))


def repeats_note(run: Run, result: RunResult) -> str:
    """Whether the held-out score can be partly memory: a text repeated on both sides."""
    repeats = result.repeats or (
        RepeatedTexts.TOGETHER if run.spec.group_repeats else RepeatedTexts.APART
    )
    if repeats == RepeatedTexts.NONE:
        return "No text repeats another, so no held-out text was seen in training."
    if repeats == RepeatedTexts.TOGETHER:
        return (
            "Repeated texts were kept on one side of every split, so no held-out text was "
            "seen in training."
        )
    why = (
        "a class has too few distinct texts to keep them together"
        if run.spec.group_repeats
        else "a run designed before they were, or with that turned off"
    )
    return (
        f"Repeated texts were not kept together ({why}): a held-out text may also have "
        "been a training text, which the Errors page marks."
    )


def scores(test: Evaluation, baseline: Evaluation, majority: Evaluation | None) -> None:
    """The held-out scores as tables, confusion matrices and, for two classes, curves."""
    st.dataframe(metrics_table(test, baseline, majority), hide_index=True)
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
                "precision": round(per_class.precision, 4),
                "recall": round(per_class.recall, 4),
                "f1": round(per_class.f1, 4),
                "support": per_class.support,
            }
            for label, per_class in test.per_class.items()
        ],
        hide_index=True,
    )
    roc_and_pr(test, baseline)


def how_trained(run: Run, result: RunResult) -> None:
    st.caption(
        f"Texts cut at {result.sequence_length} words (longest {result.longest_text_tokens}), "
        f"vocabulary {result.vocabulary_size:,}, {engine().progress(run.id).fits_summary()} "
        f"in {duration(result.search_seconds)}, median {result.median_epoch_seconds} s per epoch"
        + (
            f", trained on {BACKEND_NAMES.get(result.backend, result.backend)}."
            if result.backend
            else "."
        )
    )


def next_steps(run: Run) -> None:
    """The model tried on sentences, its errors, and its design as a script."""
    st.page_link(
        "pages/predict.py", label="Try the model on your own sentences", icon=":material/chat:"
    )
    st.page_link("pages/errors.py", label="See where it goes wrong", icon=":material/rule:")
    st.download_button(
        "Download as a Python script",
        engine().code(run.id, f"train_{run.id}.py"),
        file_name=f"train_{run.id}.py",
        mime="text/x-python",
        key="runs_code",
        help="The best configuration in plain Keras + scikeras + scikit-learn, the code you "
        "would write in class: python train_RUN.py DATA.csv",
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
