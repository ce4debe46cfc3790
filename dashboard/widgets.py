"""Widgets and state shared by the pages in `pages/`. Streamlit only; the rest is `lstm_core.api`.

It lives beside app.py, not in pages/, because Streamlit lists every file in pages/ as a
page until app.py has called st.navigation once (see `_use_app_navigation`).

User text (file contents, column names, typed sentences) is shown with `st.text`,
`st.dataframe` or through `md()`, never as raw Markdown or HTML; in charts it goes through
`chart_text` (`plain()`, `chart_labels()`), since Plotly draws a subset of HTML in titles,
ticks, legends and hover text.
"""

from __future__ import annotations

import re
import time
import zlib
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from dashboard import sign_in
from dashboard.chart_text import chart_labels, plain
from lstm_core.api import (
    Engine,
    Evaluation,
    Run,
    RunStatus,
    UserError,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {
    "SMS spam / ham (1,500 texts, cp1252)": ROOT / "sample_data" / "sms_spam.csv",
    "Product reviews, 3 sentiments (360 texts)": ROOT / "sample_data" / "sentiment.csv",
}
# Material icons, drawn by Streamlit's own font (emoji show as empty boxes where the system
# has no emoji font, as in Debian's Chromium); lists and pickers say the status in words.
STATUS_ICONS = {
    RunStatus.QUEUED: ":material/schedule:",
    RunStatus.RUNNING: ":material/progress_activity:",
    RunStatus.COMPLETED: ":material/check_circle:",
    RunStatus.FAILED: ":material/error:",
    RunStatus.CANCELLED: ":material/block:",
    RunStatus.INTERRUPTED: ":material/warning:",
}
SIDEBAR_REFRESH_S = 3
# A tick label Plotly turns upright takes about this height per character; labels this long
# or shorter stay level below a confusion matrix.
UPRIGHT_CHAR_PX, UPRIGHT_AFTER_CHARS = 6, 12
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
# A link Markdown shows as it is (an IPv6 host in brackets, as Dask gives it for [::1]).
SAFE_LINK = re.compile(
    r"^https?://(?:\[[0-9a-fA-F:]+\](?::\d+)?|[^\s()<>\[\]/]+)(?:/[^\s()<>\[\]]*)?$"
)


def md(text: object) -> str:
    """Escape user text for a Markdown context (st.markdown, st.error, labels)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


@st.cache_resource
def _open_engine(root: str) -> Engine:
    return Engine(root)


def engine() -> Engine:
    """One per server and folder, so its loaded models and caches serve every session."""
    return _open_engine(str(Engine().root))


def sidebar(pages: list[st.Page]) -> None:
    """The app's navigation, then the workspace and the runs training now.

    Streamlit's own page list is off (`client.showSidebarNavigation` in config.toml): on a
    fresh server's first load it lists the `pages/` files by name (see
    `_use_app_navigation`), so the links are drawn here, before anything that can fail.
    """
    with st.sidebar:
        for page in pages:
            st.page_link(page)
        st.divider()
    sign_in.sidebar_control()
    workbench = engine()
    workbench.reap()  # dead workers marked; reading starts no process
    with st.sidebar:
        st.caption("Workspace")
        st.text(str(workbench.root))
        stopped = workbench.stopped_writer()
        if stopped is not None:
            st.warning(md(stopped))
        active = any(r.status.active for r in workbench.runs(limit=50))
        st.fragment(_in_progress, run_every=SIDEBAR_REFRESH_S if active else None)()


def _in_progress() -> None:
    """The runs training now, with their fits so far; redrawn every few seconds meanwhile.

    (A fragment's reruns skip app.py, so it reports a damaged store itself.)
    """
    try:
        runs = engine().runs(limit=50)
    except UserError as error:
        st.error(md(error))
        return
    active = [r for r in runs if r.status.active]
    if not active:
        st.caption(f"{len(runs)} run(s) in the workspace, none training now.")
        return
    st.caption("In progress")
    for run in active:
        st.markdown(
            f"{STATUS_ICONS[run.status]} {md(run.title)} · {md(run.dataset.name)} · "
            f"{run.status.value}, {run.trials_done}/{run.trials_total or '?'} fits"
        )


def age(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    seconds = time.time() - timestamp
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def duration(seconds: float | None) -> str:
    """'45 s', '12 min', '4.1 h': as precise as an estimate deserves."""
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_name(run: Run) -> str:
    """'spam, LSTM vs GRU (20261123-...)' for a named run, else its id."""
    return f"{run.name} ({run.id})" if run.name else run.id


def run_label(run: Run) -> str:
    """A run as a picker lists it: its name (or id), data set, architectures and status now."""
    return (
        f"{run_name(run)} · {run.dataset.name}: {run.dataset.text_column} → {run.dataset.label_column}, "
        f"{run.dataset.rows:,} rows · {'/'.join(run.architectures)} · {run.status.value}"
    )


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


def choose(
    widget, label: str, options: list, key: str, missing=None, version: object = None, **kwargs
):
    """A radio or selectbox whose choice survives page switches and browser reloads.

    The widget keeps one key and gets its starting value through session state, so its
    identity never changes between reruns (a changing `index=` would redraw it). When the
    remembered value (a bookmarked `?run=`, say) is no longer among the options, the first
    option (the newest) is chosen and `missing(value)` gives the sentence that says so.
    A keyed selectbox keeps showing the label its choice had when drawn (Streamlit 1.67),
    so a picker whose labels carry a status passes that state as `version`: when it
    changes, the widget is drawn anew with the same choice.
    """
    widget_key = f"{key}_choice"
    if version is not None:
        widget_key += f"_{zlib.crc32(repr(version).encode()):08x}"
    if st.session_state.get(widget_key) not in options:
        wanted = st.session_state.get(key) or st.query_params.get(key)
        if missing is not None and wanted and wanted not in options:
            st.info(missing(wanted), icon=":material/link_off:")
        st.session_state[widget_key] = options[recall(key, options)]
    value = widget(label, options, key=widget_key, **kwargs)
    remember(key, value)
    return value


def preset(key: str, value: str) -> None:
    """Set a remembered choice from another page (before its widget is drawn)."""
    forget(key)
    remember(key, value)


def forget(key: str) -> None:
    """Drop a remembered choice (its item was deleted): the picker starts at the newest."""
    for drawn in [k for k in st.session_state if str(k).startswith(f"{key}_choice")]:
        st.session_state.pop(drawn)
    st.session_state.pop(key, None)
    st.query_params.pop(key, None)


def _use_app_navigation() -> None:
    """Make a cold deep link run app.py, so its navigation, titles and sidebar appear.

    A `pages/` folder beside the main script makes Streamlit (1.40-1.67) start each server
    in its old multipage mode: a class flag, `PagesManager.uses_pages_directory`, is set when
    the first session opens, and until some script calls `st.navigation` every run executes
    the page file named by the URL directly, under an automatic list of file names (hidden
    by `client.showSidebarNavigation = false`). A first request for `/predict` therefore
    never runs app.py. Every page imports this module, so here the flag is cleared and the
    run restarted; `st.rerun` keeps the URL's page and query string, and app.py's `st.Page`
    for that file has the same page hash.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def confusion_heatmap(matrix: list[list[int]], labels: list[str], title: str = "") -> go.Figure:
    """Rows the true class, columns the predicted one; a long label is cut on the axes (a
    whole one would squeeze the matrix) and whole on hover."""
    ticks, whole = chart_labels(labels)
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=ticks,
            y=ticks,
            text=matrix,
            texttemplate="%{text}",
            customdata=[[[truth, said] for said in whole] for truth in whole],
            hovertemplate="true %{customdata[0]}<br>predicted %{customdata[1]}<br>"
            "%{z} texts<extra></extra>",
            colorscale="Blues",
            showscale=False,
        )
    )
    # categories, also for labels such as "1" and "10" that Plotly would read as numbers
    figure.update_xaxes(type="category", title_text="predicted")
    figure.update_yaxes(type="category", title_text="true", autorange="reversed")
    # long predicted labels stand upright below the matrix: room for them, not taken from it
    longest = max(map(len, ticks), default=0)
    height = 350 + (UPRIGHT_CHAR_PX * longest if longest > UPRIGHT_AFTER_CHARS else 0)
    figure.update_layout(title=plain(title), height=height, margin={"t": 40, "b": 10})
    return figure


def metrics_table(
    test: Evaluation, baseline: Evaluation, majority: Evaluation | None = None
) -> list[dict]:
    """The model beside the TF-IDF baseline and, where recorded, the majority-class answer."""
    names = [
        ("accuracy", "Accuracy"),
        ("macro_f1", "Macro-F1"),
        ("roc_auc", "ROC-AUC"),
        ("pr_auc", "PR-AUC"),
    ]
    return [
        {
            "metric": label,
            "recurrent model": getattr(test, name),
            "TF-IDF baseline": getattr(baseline, name),
            **({"always the majority class": getattr(majority, name)} if majority else {}),
        }
        for name, label in names
        if getattr(test, name) is not None
    ]


_use_app_navigation()
