"""Optuna's own Plotly figures for a Bayesian run: the best score so far against the
candidate number, which hyperparameters mattered, and a score heatmap over two of them.

Each returns None (the page says why) while the study is too small for its figure:
Optuna would otherwise draw an empty chart or raise.
"""

from __future__ import annotations

import plotly.graph_objects as go

IMPORTANCE_MIN = 3  # finished candidates before importances say anything


def _finished(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def optimization_history(study, score_name: str) -> go.Figure | None:
    from optuna.visualization import plot_optimization_history

    if not _finished(study):
        return None
    figure = plot_optimization_history(study, target_name=score_name)
    for trace in figure.data:  # candidates are counted from 1 everywhere else
        if trace.x is not None:
            trace.x = [x + 1 for x in trace.x]
    figure.update_layout(  # no title: no room left for one above the plot
        title=None,
        xaxis_title="candidate",
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 40},
    )
    return figure


def numeric_parameters(study) -> list[str]:
    """Hyperparameters the study searched as numbers (a range, or a list of numbers)."""
    names: dict[str, None] = {}
    for trial in _finished(study):
        for name, value in trial.params.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                names.setdefault(name)
    return list(names)


def importances(study) -> go.Figure | None:
    from optuna.visualization import plot_param_importances

    trials = _finished(study)
    varied = (
        {n for n in trials[0].params if len({str(t.params[n]) for t in trials}) > 1}
        if trials
        else set()
    )
    if len(trials) < IMPORTANCE_MIN or not varied:
        return None
    figure = plot_param_importances(study)
    figure.update_layout(title=None)
    return figure


def score_heatmap(study, x: str, y: str) -> go.Figure | None:
    from optuna.visualization import plot_contour

    if len(_finished(study)) < IMPORTANCE_MIN:
        return None
    figure = plot_contour(study, params=[x, y])
    figure.update_layout(title=None)
    return figure
