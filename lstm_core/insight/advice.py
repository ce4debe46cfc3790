"""Design advice: what a person should know about a grid before launching it.

One list, shown by the dashboard's Experiment page and printed by `lstm-core train`.
"""

from __future__ import annotations

from lstm_core.domain.hyperparams import hyperparameter
from lstm_core.domain.searches import strategy
from lstm_core.domain.spec import ExperimentSpec

LARGE_RUN_FITS = 60


def design_advice(spec: ExperimentSpec, auto_length: int | None = None) -> list[str]:
    """One sentence per choice that is slow, useless or known to learn badly."""
    values = {name: spec.grid.get(name, [value]) for name, value in spec.fixed().items()}
    for name, bounds in spec.ranges.items():  # a range: its two ends
        values[name] = [bounds.low, bounds.high]
    advice = []
    if any(values["recurrent_dropout"]):
        advice.append(
            "Recurrent dropout about doubles the time per epoch on a CPU and turns off the "
            "fast cuDNN kernel on a GPU."
        )
    advice += [hyperparameter(name).condition.why for name in spec.moot()]
    if "zero" in values["init_mode"]:
        advice.append(
            "With zero initial weights every unit learns the same thing; expect poor results "
            "(a classic demo)."
        )
    if "adadelta" in values["optimizer"] and None in values["learning_rate"]:
        advice.append(
            "Adadelta's default learning rate (0.001) learns very slowly in a few epochs; try 1.0."
        )
    # (a saved model's length is its own: no choice to advise on)
    if (
        auto_length is not None
        and not spec.parent
        and any(v != "auto" for v in values["sequence_length"])
    ):
        advice.append(
            f"'auto' would cut texts at {auto_length} words here; a longer fixed length costs "
            "time for padding."
        )
    if spec.n_fits() > LARGE_RUN_FITS and not strategy(spec.search).learns:
        advice.append(
            f"{spec.n_fits()} fits is a large search; random search or successive halving "
            "tries fewer."
        )
    if note := spec.parallel_fits_note():
        advice.append(note)
    return advice
