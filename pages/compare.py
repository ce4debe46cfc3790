"""Compare: every trial of the chosen runs side by side, by hyperparameter and by architecture."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_core.api import HYPERPARAMETERS, RunStatus
from widgets import confusion_heatmap, engine, md, run_label

st.title("Compare")
workbench = engine()
completed = {r.id: r for r in workbench.runs() if r.status == RunStatus.COMPLETED}
if not completed:
    st.info("No completed run yet: results appear here once a run finishes.")
    st.page_link("pages/runs.py", label="Go to Runs", icon=":material/monitoring:")
    st.stop()
remembered = st.session_state.get("run") or st.query_params.get("run")
default = [remembered] if remembered in completed else list(completed)[:2]
if remembered and remembered not in completed and "cmp_runs" not in st.session_state:
    st.info(
        f"Run {md(remembered)} is not a completed run in this workspace; "
        "showing the newest completed runs.",
        icon=":material/link_off:",
    )
chosen = st.multiselect(
    "Runs to compare",
    list(completed),
    default=default,
    format_func=lambda i: run_label(completed[i]),
    key="cmp_runs",
)
if not chosen:
    st.info("Choose at least one run.")
    st.stop()

records, results = [], {run_id: workbench.result(run_id) for run_id in chosen}
halving = any(completed[run_id].spec.search == "halving" for run_id in chosen)
for run_id in chosen:
    for candidate in workbench.candidates(run_id):
        record = {"run": run_id, **candidate.config}
        record["architecture"] = candidate.architecture
        record["mean CV score"] = candidate.mean_score
        record["CV std"] = candidate.std_score
        record["fit seconds"] = round(candidate.mean_fit_seconds, 2)
        if halving:
            record["halving round"] = candidate.round
        records.append(record)
frame = pd.DataFrame(records)
names = [n for n in HYPERPARAMETERS if n != "arch" and n in frame]
varying = [n for n in names if frame[n].astype(str).nunique() > 1]
extra = ["halving round"] if "halving round" in frame else []
shown = frame[["run", "architecture", *varying, "mean CV score", "CV std", "fit seconds", *extra]]
st.subheader(f"{len(frame)} candidates")
st.caption("Click a column header to sort. Columns appear for the hyperparameters that differ.")
st.dataframe(shown.sort_values("mean CV score", ascending=False), hide_index=True)

dimensions = []
for name in ["architecture", *varying]:
    values = frame[name].astype(str)
    if name == "architecture" or not pd.to_numeric(frame[name], errors="coerce").notna().all():
        levels = sorted(values.unique())
        dimensions.append(
            {
                "label": name,
                "values": values.map(levels.index),
                "tickvals": list(range(len(levels))),
                "ticktext": levels,
            }
        )
    else:
        dimensions.append({"label": name, "values": pd.to_numeric(frame[name])})
dimensions.append({"label": "mean CV score", "values": frame["mean CV score"]})
parallel = go.Figure(
    go.Parcoords(
        line={"color": frame["mean CV score"], "colorscale": "Viridis", "showscale": True},
        dimensions=dimensions,
    )
)
parallel.update_layout(
    title="Hyperparameters against the CV score", height=420, margin={"l": 60, "r": 40}
)
st.plotly_chart(parallel, key="cmp_parallel")

best = frame.loc[frame.groupby("architecture")["mean CV score"].idxmax()]
bars = go.Figure(
    go.Bar(
        x=best["architecture"],
        y=best["mean CV score"],
        error_y={"type": "data", "array": best["CV std"]},
        marker_color="#2E6FDB",
        text=[f"{v:.3f}" for v in best["mean CV score"]],
        textposition="outside",
    )
)
bars.update_layout(title="Best candidate per architecture (bars: spread across folds)", height=360)
st.plotly_chart(bars, key="cmp_best")

st.subheader("Confusion matrices on the held-out test split")
for column, (run_id, result) in zip(st.columns(len(results)), results.items(), strict=True):
    test = result.test
    title = f"{run_id} · macro-F1 {test.macro_f1:.3f}"
    column.plotly_chart(
        confusion_heatmap(test.confusion_matrix, test.labels, title), key=f"cmp_cm_{run_id}"
    )
