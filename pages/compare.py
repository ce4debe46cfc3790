"""Compare: the candidates of runs on one data set side by side, by hyperparameter and by
architecture. Scores of different data sets never share a table or a chart."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.search_plots import importances, numeric_parameters, score_heatmap
from dashboard.starting_point import lineage, origin
from dashboard.widgets import choose, confusion_heatmap, engine, md, plain, run_label
from lstm_core.api import BAYESIAN, HYPERPARAMETERS, SCORING_NAMES, RunStatus, show_value


def level_order(value: str) -> tuple:
    """Numbers in their order, then words ("default") in theirs."""
    number = pd.to_numeric(value, errors="coerce")
    return (0, float(number), "") if pd.notna(number) else (1, 0.0, str(value))


st.title("Compare")
workbench = engine()
completed = {r.id: r for r in workbench.runs() if r.status == RunStatus.COMPLETED}
if not completed:
    st.info("No completed run yet: results appear here once a run finishes.")
    st.page_link("pages/runs.py", label="Go to Runs", icon=":material/monitoring:")
    st.stop()
remembered = st.session_state.get("run") or st.query_params.get("run")
if remembered and remembered not in completed and "cmp_dataset_choice" not in st.session_state:
    st.info(
        f"Run {md(remembered)} is not a completed run in this workspace; "
        "showing the newest completed runs.",
        icon=":material/link_off:",
    )
datasets = {}  # newest run's data set first
for run in completed.values():
    datasets.setdefault(run.dataset.id, run.dataset)
if remembered in completed and "cmp_dataset" not in st.query_params:
    st.session_state.setdefault("cmp_dataset", completed[remembered].dataset.id)
dataset_id = choose(
    st.selectbox,
    "Data set",
    list(datasets),
    "cmp_dataset",
    format_func=lambda i: (
        f"{datasets[i].describe()} · "
        f"{sum(r.dataset.id == i for r in completed.values())} completed run(s)"
    ),
)
here = {run_id: run for run_id, run in completed.items() if run.dataset.id == dataset_id}
default = [remembered] if remembered in here else list(here)[:2]
chosen = st.multiselect(
    "Runs to compare",
    list(here),
    default=default,
    format_func=lambda i: run_label(here[i]),
    key=f"cmp_runs_{dataset_id}",
)
if not chosen:
    st.info("Choose at least one run.")
    st.stop()
scorings = {here[run_id].spec.scoring for run_id in chosen}
if len(scorings) > 1:
    st.warning(
        "These runs pick their best by different metrics ("
        + ", ".join(SCORING_NAMES[s] for s in sorted(scorings))
        + "); choose runs with one metric to compare their CV scores."
    )
    st.stop()
score_name = f"mean CV {SCORING_NAMES[scorings.pop()]}"

records, results = [], {run_id: workbench.result(run_id) for run_id in chosen}
halving = any(completed[run_id].spec.search == "halving" for run_id in chosen)
for run_id in chosen:
    for candidate in workbench.candidates(run_id):
        # every value the candidate trained with, searched or fixed: runs compared side by
        # side searched different things
        record = {
            "run": completed[run_id].title,
            **completed[run_id].spec.fixed(),
            **candidate.config,
        }
        record["architecture"] = candidate.architecture
        record[score_name] = candidate.mean_score
        record["CV std"] = candidate.std_score
        record["fit seconds"] = round(candidate.mean_fit_seconds, 2)
        record["started from"] = origin(workbench, completed[run_id])
        if halving:
            record["halving round"] = candidate.round
        records.append(record)
frame = pd.DataFrame(records)
names = [n for n in HYPERPARAMETERS if n != "arch" and n in frame]
# Each value as a person reads it (None: the optimizer's own learning rate, which a grid
# leaves where a Bayesian search draws one): never NaN beside a number or a string.
as_shown = {n: pd.Series([show_value(n, r.get(n)) for r in records]) for n in names}
varying = [n for n in names if as_shown[n].nunique() > 1]
numbers = {n for n in varying if pd.to_numeric(frame[n], errors="coerce").notna().all()}
for name in set(varying) - numbers:
    frame[name] = as_shown[name]
extra = ["halving round"] if "halving round" in frame else []
if frame["started from"].nunique() > 1 or (frame["started from"] != "random weights").any():
    extra.append("started from")
shown = frame[["run", "architecture", *varying, score_name, "CV std", "fit seconds", *extra]]
st.subheader(f"{len(frame)} candidates")
st.caption("Click a column header to sort. Columns appear for the hyperparameters that differ.")
st.dataframe(shown.sort_values(score_name, ascending=False), hide_index=True)
built_on = [completed[run_id] for run_id in chosen if completed[run_id].spec.parent]
if built_on:
    st.markdown("**Lineage**: each model and the saved models it was built on")
    for run in built_on:
        st.markdown(f"- {md(lineage(workbench, run))} · {md(origin(workbench, run))}")


dimensions = []
for name in ["architecture", *varying]:
    if name in numbers:
        dimensions.append({"label": name, "values": pd.to_numeric(frame[name])})
        continue
    levels = sorted(frame[name].unique(), key=level_order)
    dimensions.append(
        {
            "label": name,
            "values": frame[name].map(levels.index),
            "tickvals": list(range(len(levels))),
            "ticktext": [plain(level) for level in levels],
        }
    )
dimensions.append({"label": score_name, "values": frame[score_name]})
parallel = go.Figure(
    go.Parcoords(
        line={"color": frame[score_name], "colorscale": "Viridis", "showscale": True},
        dimensions=dimensions,
    )
)
parallel.update_layout(
    title="Hyperparameters against the CV score", height=420, margin={"l": 60, "r": 40}
)
st.plotly_chart(parallel, key="cmp_parallel")

best = frame.loc[frame.groupby("architecture")[score_name].idxmax()]
bars = go.Figure(
    go.Bar(
        x=best["architecture"],
        y=best[score_name],
        error_y={"type": "data", "array": best["CV std"]},
        marker_color="#2E6FDB",
        text=[f"{v:.3f}" for v in best[score_name]],
        textposition="outside",
    )
)
bars.update_layout(title="Best candidate per architecture (bars: spread across folds)", height=360)
st.plotly_chart(bars, key="cmp_best")

bayesian = [run_id for run_id in chosen if completed[run_id].spec.search in BAYESIAN]
if bayesian:
    st.subheader("What mattered in a Bayesian search")
    run_id = st.selectbox(
        "Bayesian run", bayesian, format_func=lambda i: run_label(here[i]), key="cmp_bayes_run"
    )
    history = workbench.search_history(run_id)
    figure = history and importances(history)
    if figure is None:
        st.caption("Importances need at least three scored candidates that differ.")
    else:
        st.caption(
            "How much of the spread in CV scores each hyperparameter explains (Optuna's "
            "PED-ANOVA importance over this run's candidates)."
        )
        st.plotly_chart(figure, key="cmp_importances")
    numeric = numeric_parameters(history) if history else []
    if len(numeric) >= 2:
        pair = st.multiselect(
            "Score heatmap across two hyperparameters",
            numeric,
            default=numeric[:2],
            max_selections=2,
            key=f"cmp_heat_{run_id}",
        )
        heatmap = score_heatmap(history, *pair) if len(pair) == 2 else None
        if heatmap is not None:
            st.caption("The CV score between the candidates tried (dots), interpolated.")
            st.plotly_chart(heatmap, key="cmp_heatmap")

st.subheader("Confusion matrices on the held-out test split")
for column, (run_id, result) in zip(st.columns(len(results)), results.items(), strict=True):
    test = result.test
    title = f"{completed[run_id].title} · macro-F1 {test.macro_f1:.3f}"
    column.plotly_chart(
        confusion_heatmap(test.confusion_matrix, test.labels, title), key=f"cmp_cm_{run_id}"
    )
