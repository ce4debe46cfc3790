"""Drawing an explanation: coloured tokens, a recurrent layer's gates as heatmaps, and how
much each token still moves the answer.

Tokens come from a person's text, so every one is escaped before it goes into HTML, and
chart text goes through `chart_text` (Plotly renders a few HTML tags in labels; a long
token is cut on the axis and whole on hover).
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from dashboard.chart_text import chart_labels, plain
from lstm_core.api import Explanation, GateTrace

TOWARD, AGAINST = (46, 111, 219), (214, 69, 65)  # blue: for the label, red: against it
CONTINUES = "##"  # a subword piece that continues the word before it (no word starts so)
GATES = ("input", "forget", "output", "update", "reset")
GATE_TITLES = {
    "input": "input gate i (how much of the new candidate is written)",
    "forget": "forget gate f (how much of the cell is kept: 0 forgets, 1 keeps)",
    "output": "output gate o (how much of the cell is shown as h)",
    "cell": "cell state c (the conveyor belt)",
    "hidden": "hidden state h (what the next layer reads)",
    "update": "update gate z (1: keep the old state)",
    "reset": "reset gate r (how much of the old state the candidate sees)",
}


def coloured_tokens(explanation: Explanation) -> str:
    """The tokens as HTML spans, shaded by attribution (escaped: safe to render); the
    subword pieces of one word touch, so the word reads whole ("hel" "lo")."""
    largest = max((abs(t.attribution) for t in explanation.tokens), default=0.0) or 1.0
    continues = [t.token.startswith(CONTINUES) for t in explanation.tokens]
    spans = []
    for position, token in enumerate(explanation.tokens):
        share = abs(token.attribution) / largest
        red, green, blue = TOWARD if token.attribution >= 0 else AGAINST
        unknown = "" if token.known else " (unknown to the model: read as [unknown])"
        title = html.escape(f"{token.token}: {token.attribution:+.4f}{unknown}", quote=True)
        border = "" if token.known else " border: 1px dashed #555;"
        shown = token.token.removeprefix(CONTINUES) if continues[position] else token.token
        left = 0 if continues[position] else 2
        right = 0 if continues[position + 1 : position + 2] == [True] else 2
        spans.append(
            f'<span title="{title}" style="background: rgba({red},{green},{blue},'
            f"{0.12 + 0.6 * share:.2f}); padding: 2px 5px; margin: 2px {right}px 2px {left}px; "
            f'border-radius: 4px; display: inline-block;{border}">{html.escape(shown)}</span>'
        )
    return f'<div data-testid="coloured-tokens" style="line-height: 2.2">{"".join(spans)}</div>'


def gate_heatmaps(trace: GateTrace, tokens: list[str], key: str) -> None:
    """One heatmap per gate or state: units down, tokens across."""
    labels, whole = _token_labels(tokens)
    for name, values in trace.series().items():
        per_unit = list(map(list, zip(*values, strict=True)))
        if name in GATES:  # shares from 0 (nothing through) to 1 (everything)
            scale = {"colorscale": "Blues", "zmin": 0.0, "zmax": 1.0}
        elif name == "hidden":  # tanh: -1 to 1
            scale = {"colorscale": "RdBu", "zmin": -1.0, "zmax": 1.0}
        else:  # the cell state is not bounded
            scale = {"colorscale": "RdBu", "zmid": 0.0}
        figure = go.Figure(
            go.Heatmap(
                z=per_unit,
                x=labels,
                y=[f"unit {u + 1}" for u in range(len(per_unit))],
                customdata=[whole] * len(per_unit),
                hovertemplate="%{customdata}<br>%{y}: %{z:.3f}<extra></extra>",
                **scale,
            )
        )
        figure.update_layout(
            title=GATE_TITLES[name],
            height=120 + 18 * len(per_unit),
            margin={"t": 40, "b": 20},
        )
        st.plotly_chart(figure, key=f"{key}_{name}")


def gradient_bars(explanations: dict[str, Explanation], key: str) -> None:
    """How strongly the answer still depends on each token (the gradient's size there),
    one bar series per model: in a SimpleRNN early tokens fade (vanishing gradients)."""
    figure = go.Figure()
    for name, explanation in explanations.items():
        labels, whole = _token_labels([t.token for t in explanation.tokens])
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[t.gradient for t in explanation.tokens],
                customdata=whole,
                hovertemplate="%{customdata}: %{y:.4f}",
                name=plain(name),
            )
        )
    figure.update_layout(
        barmode="group",
        height=320,
        yaxis_title="|∂ probability / ∂ token embedding|",
        legend={"orientation": "h", "y": -0.3},
        margin={"t": 20},
    )
    st.plotly_chart(figure, key=key)


def _token_labels(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Axis labels numbered by position (a word said twice is two places), and the whole
    tokens for hover."""
    ticks, whole = chart_labels(tokens)
    return [f"{i + 1}. {tick}" for i, tick in enumerate(ticks)], whole
