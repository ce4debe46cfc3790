"""Optuna's own Plotly figures for a Bayesian run: the best score so far against the
candidate number, which hyperparameters mattered, and a score heatmap over two of them.

The engine hands over a `SearchHistory`, not Optuna's study; Optuna's figures are drawn
from an in-memory study of its scored candidates (a millisecond to build). Each returns
None (the page says why) while the search is too small for its figure: Optuna would
otherwise draw an empty chart or raise.
"""

from __future__ import annotations

import plotly.graph_objects as go

from lstm_core.api import Dimension, SearchHistory

IMPORTANCE_MIN = 3  # finished candidates before importances say anything


def _distribution(dimension: Dimension):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if dimension.choices is not None:
        return CategoricalDistribution(dimension.choices)
    if dimension.integer:
        return IntDistribution(int(dimension.low), int(dimension.high), log=dimension.log)
    return FloatDistribution(dimension.low, dimension.high, log=dimension.log)


def _study(history: SearchHistory):
    """The scored candidates as a study Optuna can plot; its trial `i` is `scored()[i]`."""
    import optuna
    from optuna.trial import create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.add_trials(
        [
            create_trial(
                params=trial.params,
                distributions={n: _distribution(history.space[n]) for n in trial.params},
                value=trial.value,
            )
            for trial in history.scored()
        ]
    )
    return study


def optimization_history(history: SearchHistory, score_name: str) -> go.Figure | None:
    from optuna.visualization import plot_optimization_history

    scored = history.scored()
    if not scored:
        return None
    figure = plot_optimization_history(_study(history), target_name=score_name)
    for trace in figure.data:  # candidates are counted from 1 everywhere else
        if trace.x is not None:
            trace.x = [scored[x].number + 1 for x in trace.x]
    figure.update_layout(  # no title: no room left for one above the plot
        title=None,
        xaxis_title="candidate",
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 40},
    )
    return figure


def numeric_parameters(history: SearchHistory) -> list[str]:
    """Hyperparameters the search tried as numbers (a range, or a list of numbers)."""
    names: dict[str, None] = {}
    for trial in history.scored():
        for name, value in trial.params.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                names.setdefault(name)
    return list(names)


def importances(history: SearchHistory) -> go.Figure | None:
    from optuna.visualization import plot_param_importances

    trials = history.scored()
    varied = (
        {n for n in trials[0].params if len({str(t.params[n]) for t in trials}) > 1}
        if trials
        else set()
    )
    if len(trials) < IMPORTANCE_MIN or not varied:
        return None
    figure = plot_param_importances(_study(history))
    figure.update_layout(title=None)
    return figure


def score_heatmap(history: SearchHistory, x: str, y: str) -> go.Figure | None:
    from optuna.visualization import plot_contour

    if len(history.scored()) < IMPORTANCE_MIN:
        return None
    figure = plot_contour(_study(history), params=[x, y])
    figure.update_layout(title=None)
    return figure
