"""Errors: a run's held-out texts to browse (what it got wrong, how sure it was, what the
baseline said), its scores by text length, and for two classes a decision threshold and a
calibration curve. Reads only the predictions the run kept: no model is loaded."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.chart_text import chart_labels
from dashboard.widgets import choose, confusion_heatmap, engine, md, run_label
from lstm_core.api import RunStatus

st.title("Errors")
workbench = engine()
completed = {r.id: r for r in workbench.runs() if r.status == RunStatus.COMPLETED}
if not completed:
    st.info("No completed run yet: its held-out texts appear here once a run finishes.")
    st.page_link("pages/runs.py", label="Go to Runs", icon=":material/monitoring:")
    st.stop()
run_id = choose(
    st.selectbox,
    "Run",
    list(completed),
    "run",
    missing=lambda wanted: (
        f"Run {md(wanted)} is not a completed run in this workspace; showing the newest one."
    ),
    format_func=lambda i: run_label(completed[i]),
    # Its own version: a picker another page draws under the same key would hand this one
    # its stale state, and the run chosen here would not follow to that page.
    version=("errors", [(r.id, r.name) for r in completed.values()]),
)
items = workbench.held_out(run_id)
if not items:
    st.info("This run kept no held-out predictions (it was trained by an older version).")
    st.stop()
labels = sorted({item.true for item in items} | {item.predicted for item in items})
wrong = [item for item in items if item.predicted != item.true]
repeated = sum(item.in_training for item in items)
st.caption(
    f"{len(items):,} held-out texts, {len(wrong):,} misclassified; {repeated:,} of them also "
    "appear word for word among the training texts (flagged below)."
)

st.subheader("Held-out texts")
left, middle, right = st.columns(3)
# wrap: in a column the tags would otherwise stay on one scrolled line, hiding all but the
# first; a long label is cut with an ellipsis, whole on hover
truth = left.multiselect("True class", labels, default=labels, key="err_true", wrap=True)
said = middle.multiselect("Predicted class", labels, default=labels, key="err_predicted", wrap=True)
only_wrong = right.checkbox("Only the misclassified ones", value=True, key="err_only_wrong")
low, high = st.slider(
    "Model's confidence in its answer", 0.0, 1.0, (0.0, 1.0), step=0.05, key="err_confidence"
)
shown = [
    item
    for item in items
    if item.true in truth
    and item.predicted in said
    and (item.predicted != item.true or not only_wrong)
    and low <= item.probabilities.get(item.predicted, 0.0) <= high
]
table = pd.DataFrame(
    [
        {
            "text": item.text,
            "true": item.true,
            "predicted": item.predicted,
            "confidence": item.probabilities.get(item.predicted, 0.0),
            "loss": item.loss,
            "TF-IDF baseline said": item.baseline_predicted,
            "also a training text": item.in_training,
            "words": item.tokens,
        }
        for item in sorted(shown, key=lambda i: -i.loss)
    ]
)
st.caption(
    f"{len(shown):,} shown, highest loss first (the loss is -log of the probability the "
    "model gave the true class). Click a column header to sort."
)
st.dataframe(table, hide_index=True)

st.subheader("By text length")
st.dataframe(
    [
        {
            "length": s.bucket,
            "texts": s.texts,
            "accuracy": s.accuracy,
            "macro-F1": s.macro_f1,
            "baseline accuracy": s.baseline_accuracy,
            "baseline macro-F1": s.baseline_macro_f1,
        }
        for s in workbench.metrics_by_length(run_id)
    ],
    hide_index=True,
)

if len(labels) == 2:
    st.subheader("Decision threshold")
    counts = {label: sum(item.true == label for item in items) for label in labels}
    rarer = min(labels, key=counts.get)
    positive = st.radio(
        "Positive class", labels, index=labels.index(rarer), horizontal=True, key="err_positive"
    )
    threshold = st.slider(
        f"Answer {md(positive)} when its probability is at least",
        0.01,
        0.99,
        0.5,
        step=0.01,
        key="err_threshold",
    )
    metrics = workbench.threshold_metrics(run_id, positive, threshold)
    left, right = st.columns([3, 2])
    left.plotly_chart(
        confusion_heatmap(
            metrics.confusion_matrix,
            [metrics.positive, metrics.negative],
            f"Held-out texts at threshold {threshold:.2f}",
        ),
        key="err_threshold_matrix",
    )
    right.metric("Precision", f"{metrics.precision:.3f}")
    right.metric("Recall", f"{metrics.recall:.3f}")
    right.metric("F1", f"{metrics.f1:.3f}")
    right.metric("Accuracy", f"{metrics.accuracy:.3f}")
    bins = workbench.calibration(run_id, positive)
    figure = go.Figure(
        [
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="perfectly calibrated",
                line={"dash": "dash", "color": "grey"},
            ),  # fmt: skip
            go.Scatter(
                x=[b.mean_predicted for b in bins],
                y=[b.observed for b in bins],
                mode="lines+markers",
                name="this model",
                text=[f"{b.count} texts" for b in bins],
            ),
        ]
    )
    shown = chart_labels([positive]).ticks[0]  # cut: a title does not wrap
    figure.update_layout(
        title=f"Calibration: predicted probability of {shown} against how often it was right",
        xaxis_title="mean predicted probability (bins of 0.1)",
        yaxis_title="share that really is " + shown,
        height=380,
    )
    st.plotly_chart(figure, key="err_calibration")
