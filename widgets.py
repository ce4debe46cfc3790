"""Widgets and state shared by the pages in `pages/`. Streamlit only; the rest is `lstm_core`.

It lives beside app.py, not in pages/, because Streamlit lists every file in pages/ as a
page until app.py has called st.navigation once.

User text (file contents, column names, typed sentences) is shown with `st.text`,
`st.dataframe` or through `md()`, never as raw Markdown or HTML.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lstm_core import jobs
from lstm_core.workspace import Workspace

ROOT = Path(__file__).resolve().parent
SAMPLES = {
    "SMS spam / ham (1,500 texts, cp1252)": ROOT / "sample_data" / "sms_spam.csv",
    "Product reviews, 3 sentiments (360 texts)": ROOT / "sample_data" / "sentiment.csv",
}
ARCH_NAMES = {
    "rnn": "SimpleRNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "bilstm": "BiLSTM",
    "bigru": "BiGRU",
}
STATUS_ICONS = {
    "queued": "⏳",
    "running": "🏃",
    "completed": "✅",
    "failed": "❌",
    "cancelled": "⛔",
    "interrupted": "⚠️",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """Escape user text for a Markdown context (st.markdown, st.error, labels)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


@st.cache_resource
def _open_workspace(root: str) -> Workspace:
    ws = Workspace(root)
    jobs.refresh(ws)
    return ws


def workspace() -> Workspace:
    """One per server and folder; on first use dead workers are marked and queued runs start."""
    return _open_workspace(str(Workspace().root))


def sidebar() -> None:
    ws = workspace()
    jobs.refresh(ws)
    runs = ws.store.list_runs(limit=50)
    active = [r for r in runs if r["status"] in ("running", "queued")]
    with st.sidebar:
        st.caption("Workspace")
        st.text(str(ws.root))
        if active:
            st.caption("In progress")
            for run in active:
                st.text(
                    f"{STATUS_ICONS[run['status']]} {run['id']} {run['trials_done']}/{run['trials_total'] or '?'}"
                )
        else:
            st.caption(f"{len(runs)} run(s) in the workspace, none training now.")


def archs_of(spec: dict) -> list[str]:
    archs = spec.get("grid", {}).get("arch") or [spec.get("params", {}).get("arch", "lstm")]
    return [ARCH_NAMES[a] for a in archs]


def age(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    seconds = time.time() - timestamp
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run_label(run: dict) -> str:
    return f"{STATUS_ICONS.get(run['status'], '')} {run['id']} · {'/'.join(archs_of(run['spec']))} · {run['status']}"


def remember(key: str, value: str) -> None:
    """Keep a choice in the session and in the URL, so a browser reload lands back on it."""
    st.session_state[key] = value
    st.query_params[key] = value


def recall(key: str, options: list[str]) -> int:
    """Index of the remembered choice among `options` (session, then URL, then the first)."""
    for value in (st.session_state.get(key), st.query_params.get(key)):
        if value in options:
            return options.index(value)
    return 0


def choose(widget, label: str, options: list, key: str, **kwargs):
    """A radio or selectbox whose choice survives page switches and browser reloads.

    The widget keeps one key and gets its starting value through session state, so its
    identity never changes between reruns (a changing `index=` would redraw it).
    """
    widget_key = f"{key}_choice"
    if st.session_state.get(widget_key) not in options:
        st.session_state[widget_key] = options[recall(key, options)]
    value = widget(label, options, key=widget_key, **kwargs)
    remember(key, value)
    return value


def preset(key: str, value: str) -> None:
    """Set a remembered choice from another page (before its widget is drawn)."""
    st.session_state.pop(f"{key}_choice", None)
    remember(key, value)


def learning_curves(epochs: list[dict], trials: list[dict]) -> go.Figure:
    """Loss and accuracy per epoch, one colour per trial; validation dashed."""
    names = {}
    for t in trials:
        fold = "refit" if t["fold"] < 0 else f"fold {t['fold']}"
        names[t["id"]] = (
            f"{ARCH_NAMES[t['params']['arch']]} u{t['params']['units']} {fold} #{t['id']}"
        )
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    palette = [
        "#2E6FDB",
        "#E4572E",
        "#17BEBB",
        "#76B041",
        "#FFC914",
        "#7E52A0",
        "#8D6A9F",
        "#C5283D",
    ]
    for index, trial_id in enumerate(names):
        rows = [e for e in epochs if e["trial_id"] == trial_id]
        if not rows:
            continue
        colour = palette[index % len(palette)]
        x = [e["epoch"] + 1 for e in rows]
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                y = [e[prefix + metric] for e in rows]
                if all(v is None for v in y):
                    continue
                figure.add_trace(
                    go.Scatter(
                        x=x,
                        y=y,
                        mode="lines+markers",
                        name=f"{names[trial_id]} {'val' if prefix else 'train'}",
                        legendgroup=str(trial_id),
                        showlegend=column == 1,
                        line={"color": colour, "dash": dash},
                    ),
                    row=1,
                    col=column,
                )
    figure.update_xaxes(title_text="epoch", dtick=1)
    figure.update_layout(height=380, margin={"t": 40, "b": 10}, legend={"font": {"size": 10}})
    return figure


def confusion_heatmap(matrix: list[list[int]], labels: list[str], title: str = "") -> go.Figure:
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[f"predicted {x}" for x in labels],
            y=[f"true {y}" for y in labels],
            text=matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(title=title, height=320, margin={"t": 40, "b": 10})
    return figure


def metrics_table(test: dict, baseline: dict) -> list[dict]:
    keys = [
        ("accuracy", "Accuracy"),
        ("macro_f1", "Macro-F1"),
        ("roc_auc", "ROC-AUC"),
        ("pr_auc", "PR-AUC"),
    ]
    return [
        {"metric": name, "recurrent model": test.get(key), "TF-IDF baseline": baseline.get(key)}
        for key, name in keys
        if key in test
    ]
