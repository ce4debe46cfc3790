"""The Experiment page's choices, kept per dataset while the browser tab stays open.

Streamlit forgets the state of every widget a page does not draw, so coming back to
Experiment used to reset the grid to its defaults. Each design widget here gets its
starting value through session state (never through `default=`, which would clash with
it) from a per-dataset memory, and what it shows is written back on every run. Choosing
another dataset redraws the widgets from that dataset's memory. "Run again" on the Runs
page writes a finished run's design into the memory before switching to Experiment.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lstm_core.api import ARCHITECTURES, HYPERPARAMETERS, ExperimentSpec, architecture

DESIGNS = "_designs"  # dataset id -> {name: value}
SHOWN = "_design_shown_for"  # the dataset whose design the widgets hold now
PREFIX = "exp_"
SETTINGS = (
    "search",
    "n_iter",
    "cv",
    "test_size",
    "group_repeats",
    "scoring",
    "seed",
    "time_budget_s",
    "prune",
)
RANGED = "ranged"  # the names searched between bounds; each bound is `range_<name>_low` ...
# The starting point (starting_point.py): what to start from, and how.
MOST_LAYERS = int(HYPERPARAMETERS["layers"].high)
START = (
    "start",
    "parent",
    *dict.fromkeys(
        f"freeze_{name}" for a in ARCHITECTURES for name in architecture(a).freezable(MOST_LAYERS)
    ),
    "fine_tune_epochs",
    "vectors",
    "train_vectors",
)


def follow(dataset_id: str) -> None:
    """Before the design widgets are drawn: if the dataset changed, forget what they hold,
    so that each starts from the new dataset's memory."""
    if st.session_state.get(SHOWN) == dataset_id:
        return
    for name in (*HYPERPARAMETERS, *SETTINGS, RANGED, *START):
        st.session_state.pop(PREFIX + name, None)
    for key in [k for k in st.session_state if str(k).startswith(PREFIX + "range_")]:
        st.session_state.pop(key)
    st.session_state[SHOWN] = dataset_id


def kept(widget, label: str, *args, dataset_id: str, name: str, default: Any, **kwargs):
    """Draw `widget` keyed `exp_<name>`, starting from the remembered value or `default`."""
    key = PREFIX + name
    memory = st.session_state.setdefault(DESIGNS, {}).setdefault(dataset_id, {})
    if key not in st.session_state:
        st.session_state[key] = memory.get(name, default)
    value = widget(label, *args, key=key, **kwargs)
    memory[name] = value
    return value


def range_keys(name: str, low, high, log: bool) -> dict[str, Any]:
    return {f"range_{name}_low": low, f"range_{name}_high": high, f"range_{name}_log": log}


def start_of(spec: ExperimentSpec) -> dict[str, Any]:
    """The starting-point choices that give `spec`'s saved model or word vectors."""
    if spec.parent:
        frozen = spec.frozen()
        embedding, group, *body = architecture(spec.fixed()["arch"]).freezable(MOST_LAYERS)
        return {
            "start": "parent",
            "parent": spec.parent,
            f"freeze_{embedding}": embedding in frozen,
            **{f"freeze_{name}": bool({group, name} & frozen) for name in body},
            "fine_tune_epochs": spec.fine_tune_epochs,
        }
    if spec.vectors:
        return {
            "start": "self" if spec.vectors == "self" else "file",
            "vectors": spec.vectors,
            "train_vectors": bool(spec.fixed()["vectors_trainable"]),
            "fine_tune_epochs": spec.fine_tune_epochs,
        }
    return {"start": "random"}


def forget(dataset_id: str, name: str) -> None:
    """Drop a remembered choice (one naming something deleted since), widget state too."""
    st.session_state.pop(PREFIX + name, None)
    st.session_state.get(DESIGNS, {}).get(dataset_id, {}).pop(name, None)


def remembered(dataset_id: str, name: str, default: Any) -> Any:
    """What `exp_<name>` holds or will start from (to build a widget's options around it)."""
    if PREFIX + name in st.session_state:
        return st.session_state[PREFIX + name]
    return st.session_state.get(DESIGNS, {}).get(dataset_id, {}).get(name, default)


def load(spec: ExperimentSpec) -> None:
    """Make a run's design the one Experiment shows for its dataset ("run again")."""
    fixed = spec.fixed()
    design: dict[str, Any] = {
        name: list(spec.grid.get(name) or [fixed[name]]) for name in HYPERPARAMETERS
    }
    design.update({name: getattr(spec, name) for name in SETTINGS})
    design[RANGED] = list(spec.ranges)
    for name, bounds in spec.ranges.items():
        design.update(range_keys(name, bounds.low, bounds.high, bounds.log))
    design.update(start_of(spec))
    st.session_state.setdefault(DESIGNS, {})[spec.dataset_id] = design
    st.session_state.pop(SHOWN, None)
