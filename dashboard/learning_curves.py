"""Learning curves that stay readable with many fits.

A grid of 6 candidates on 3 folds is 19 fits: one line each (and a legend entry each) was
unreadable. The overview draws one line per candidate, the mean over its folds, with a
band from its lowest to its highest fold, and the refit of the best in black on top; one
candidate can be opened to see its folds one by one. Fits are numbered within their run.
"""

from __future__ import annotations

import math
from collections import defaultdict

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.chart_text import plain
from lstm_core.api import Epoch, Trial, candidate_labels

PALETTE = (
    "#2E6FDB",
    "#E4572E",
    "#17BEBB",
    "#76B041",
    "#FFC914",
    "#7E52A0",
    "#8D6A9F",
    "#C5283D",
)
REFIT_COLOUR = "#111111"
METRICS = ("loss", "accuracy")
SPLITS = (("", "solid", "train"), ("val_", "dash", "val"))

Group = tuple[int, int]  # (candidate, round)


def candidate_groups(trials: list[Trial]) -> dict[Group, list[Trial]]:
    """The cross-validation fits of each candidate (per halving round), in the order tried."""
    groups: dict[Group, list[Trial]] = {}
    for trial in trials:
        if not trial.is_refit:
            groups.setdefault((trial.candidate, trial.round), []).append(trial)
    return groups


def learning_curves(
    epochs: list[Epoch], trials: list[Trial], focus: Group | None = None
) -> go.Figure:
    """Loss and accuracy per epoch: the overview, or the folds of the `focus` candidate."""
    by_trial: dict[int, list[Epoch]] = defaultdict(list)
    for epoch in epochs:
        by_trial[epoch.trial_id].append(epoch)
    groups = candidate_groups(trials)
    labels = candidate_labels(trials)
    series: list[tuple[str, str, list[Trial], float]] = []
    if focus is None or focus not in groups:
        for index, (group, members) in enumerate(groups.items()):
            folds = f", mean of {len(members)} folds" if len(members) > 1 else ""
            name = f"{labels[group]}{folds}"
            series.append((name, PALETTE[index % len(PALETTE)], members, 2.0))
    else:
        for index, trial in enumerate(groups[focus]):
            name = f"fit {trial.number} · fold {trial.fold}"
            series.append((name, PALETTE[index % len(PALETTE)], [trial], 2.0))
    for trial in trials:
        if trial.is_refit and (focus is None or focus[0] == trial.candidate):
            series.append((f"fit {trial.number} · {labels[None]}", REFIT_COLOUR, [trial], 3.5))

    figure = make_subplots(rows=1, cols=2, subplot_titles=METRICS)
    for name, colour, members, width in series:
        curves = [by_trial[t.id] for t in members]
        for column, metric in enumerate(METRICS, start=1):
            for prefix, dash, split in SPLITS:
                _add_series(
                    figure,
                    curves,
                    prefix + metric,
                    name=plain(f"{name} · {split}"),
                    group=name,
                    colour=colour,
                    dash=dash,
                    width=width,
                    column=column,
                )
    figure.update_xaxes(title_text="epoch", dtick=1)
    rows_of_legend = math.ceil(len(series) * 2 / 3)  # a train and a val entry per line
    figure.update_layout(
        height=360 + 22 * rows_of_legend,
        margin={"t": 70, "b": 10},  # the titles sit below Plotly's toolbar, not under it
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "font": {"size": 11}},
    )
    return figure


def _add_series(figure, curves, field, *, name, group, colour, dash, width, column) -> None:
    """The mean over `curves` per epoch, with a lowest-to-highest band when there are several."""
    values: dict[int, list[float]] = defaultdict(list)
    for curve in curves:
        for epoch in curve:
            value = getattr(epoch, field)
            if value is not None:
                values[epoch.epoch + 1].append(value)
    if not values:
        return
    x = sorted(values)
    if len(curves) > 1 and dash == "dash":
        # the highest fold's line, then the lowest one's, filled up to the previous trace
        for edge, fill in (
            (max, None),
            (min, {"fill": "tonexty", "fillcolor": _transparent(colour)}),
        ):
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=[edge(values[e]) for e in x],
                    mode="lines",
                    line={"width": 0},
                    legendgroup=group,
                    showlegend=False,
                    hoverinfo="skip",
                    **(fill or {}),
                ),
                row=1,
                col=column,
            )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=[sum(values[e]) / len(values[e]) for e in x],
            mode="lines+markers",
            name=name,
            legendgroup=group,
            showlegend=column == 1,
            line={"color": colour, "dash": dash, "width": width},
        ),
        row=1,
        col=column,
    )


def _transparent(colour: str, alpha: float = 0.15) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"
