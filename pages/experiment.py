"""Experiment: pick architectures and hyperparameter grids, see the cost, launch in the background."""

import numpy as np
import streamlit as st

from lstm_core import jobs
from lstm_core.datasets import load_dataset
from lstm_core.errors import UserError
from lstm_core.estimates import estimate_run_seconds
from lstm_core.hyperparams import ARCHITECTURES, HYPERPARAMETERS
from lstm_core.model_zoo import count_params, layer_table
from lstm_core.spec import SCORINGS, ExperimentSpec
from lstm_core.vectorizer import SequenceVectorizer
from widgets import ARCH_NAMES, choose, duration, md, preset, workspace

GROUPS = {
    "Network": ["units", "layers", "embedding_dim", "dense_units", "activation", "init_mode"],
    "Regularisation": ["dropout_rate", "recurrent_dropout", "class_weight", "patience"],
    "Training": [
        "optimizer",
        "learning_rate",
        "batch_size",
        "epochs",
        "validation_split",
        "length_buckets",
    ],
    "Text": ["max_tokens", "sequence_length", "lowercase", "strip_punctuation"],
}
FOLD_CHOICES = [0, 2, 3, 5, 10]
LARGE_RUN_FITS = 60


def show(value) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@st.cache_data(max_entries=16)
def auto_length(dataset_id: str) -> int:
    texts = load_dataset(workspace(), dataset_id).texts
    tokenize = SequenceVectorizer().tokenize
    return int(max(1, np.ceil(np.percentile([len(tokenize(t)) for t in texts], 95))))


st.title("Experiment")
ws = workspace()
datasets = ws.store.list_datasets()
if not datasets:
    st.info("There is no dataset yet: load a file and confirm its columns first.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/description:")
    st.stop()
by_id = {d["id"]: d for d in datasets}
dataset = by_id[
    choose(
        st.selectbox,
        "Dataset",
        list(by_id),
        "dataset",
        format_func=lambda i: (
            f"{by_id[i]['name']} · {by_id[i]['text_column']} → {by_id[i]['label_column']} · "
            f"{by_id[i]['rows']:,} texts · {i}"
        ),
    )
]
classes = dataset["class_counts"]
st.caption("Classes: " + md(", ".join(f"{k} {v:,}" for k, v in classes.items())))

archs = st.multiselect(
    "Architectures (each one is a value of the grid)",
    ARCHITECTURES,
    default=["lstm", "gru"],
    format_func=ARCH_NAMES.get,
    key="exp_arch",
)
chosen: dict[str, list] = {"arch": archs}
for group, names in GROUPS.items():
    with st.expander(group, expanded=group == "Network"):
        cells = st.columns(3)
        for index, name in enumerate(names):
            parameter = HYPERPARAMETERS[name]
            chosen[name] = cells[index % 3].multiselect(
                name.replace("_", " "),
                list(parameter.offered()),
                default=[parameter.default],
                format_func=show,
                key=f"exp_{name}",
                help=parameter.help + ". Pick several values to search over them.",
            )

st.subheader("Search")
left, middle, right = st.columns(3)
search = left.radio(
    "Strategy",
    ["grid", "random", "halving"],
    format_func={
        "grid": "Every combination",
        "random": "Random sample",
        "halving": "Successive halving",
    }.get,
    key="exp_search",
)
n_iter = (
    left.number_input("Candidates to sample", 1, 500, 10, key="exp_n_iter")
    if search == "random"
    else 10
)
cv = middle.selectbox(
    "Cross-validation folds",
    FOLD_CHOICES,
    index=FOLD_CHOICES.index(3),
    format_func=lambda k: "none: one validation split" if k == 0 else f"{k} folds",
    key="exp_cv",
)
test_size = middle.slider("Held-out test share", 0.1, 0.4, 0.2, 0.05, key="exp_test_size")
scoring = right.selectbox("Pick the best by", SCORINGS, key="exp_scoring")
seed = right.number_input("Seed (same seed, same splits)", 0, 2**31 - 1, 42, key="exp_seed")

empty = [name for name, values in chosen.items() if not values]
if empty:
    st.error(
        "Choose at least one value for: " + ", ".join(n.replace("_", " ") for n in empty) + "."
    )
    st.stop()
try:
    spec = ExperimentSpec(
        dataset["id"],
        dataset["text_column"],
        dataset["label_column"],
        grid=chosen,
        search=search,
        n_iter=int(n_iter),
        cv=int(cv),
        test_size=float(test_size),
        seed=int(seed),
        scoring=scoring,
    ).validated()
except UserError as error:
    st.error(md(error))
    st.stop()

length = auto_length(dataset["id"])
fits = spec.n_fits()
estimate = estimate_run_seconds(spec, dataset["rows"], length)
a, b, c, d = st.columns(4)
a.metric("Candidates", spec.n_candidates())
b.metric(
    "Fits", fits, help="candidates x folds, plus the refit of the best on the whole training split"
)
c.metric(
    "Rough time",
    duration(estimate),
    help="From timings on a 2-core machine; a first run also loads TensorFlow.",
)
d.metric("Parallel fits", spec.effective_n_jobs())

warnings = []
if any(chosen["recurrent_dropout"]):
    warnings.append(
        "Recurrent dropout about doubles the time per epoch on a CPU and turns off the fast cuDNN kernel on a GPU."
    )
if len(chosen["activation"]) > 1 and chosen["dense_units"] == [0]:
    warnings.append(
        "The activation only applies to the dense layer: add dense units, or the choices give identical models."
    )
if "zero" in chosen["init_mode"]:
    warnings.append(
        "With zero initial weights every unit learns the same thing; expect poor results (a classic demo)."
    )
if "adadelta" in chosen["optimizer"] and None in chosen["learning_rate"]:
    warnings.append(
        "Adadelta's default learning rate (0.001) learns very slowly in a few epochs; try 1.0."
    )
if any(v != "auto" for v in chosen["sequence_length"]):
    warnings.append(
        f"'auto' would cut texts at {length} words here; a longer fixed length costs time for padding."
    )
if fits > LARGE_RUN_FITS:
    warnings.append(
        f"{fits} fits is a large search; random search or successive halving tries fewer."
    )
for warning in warnings:
    st.warning(warning)

st.subheader("Model summary per architecture")
fixed = spec.fixed()
n_classes = len(classes)
tabs = st.tabs([ARCH_NAMES[a] for a in spec.grid.get("arch", [fixed["arch"]])])
for tab, arch in zip(tabs, spec.grid.get("arch", [fixed["arch"]]), strict=True):
    configs = [
        {k: v for k, v in c.items() if k != "arch"}
        | {"sequence_length": length if c["sequence_length"] == "auto" else c["sequence_length"]}
        for c in spec.candidates()
        if c["arch"] == arch
    ]
    rows = layer_table(arch, n_classes, **configs[0])
    totals = [count_params(arch, n_classes, **c) for c in configs]
    with tab:
        st.dataframe(
            [{"layer": r.layer, "output shape": r.output_shape, "params": r.params} for r in rows],
            hide_index=True,
        )
        spread = (
            f"; across this grid {min(totals):,} to {max(totals):,}" if len(set(totals)) > 1 else ""
        )
        st.caption(
            f"Total trainable parameters {sum(r.params for r in rows):,} (first candidate){spread}."
        )

if st.button("Launch in the background", type="primary", key="exp_launch"):
    try:
        run_id = jobs.submit(ws, spec)
    except UserError as error:
        st.error(md(error))
    else:
        preset("run", run_id)
        st.switch_page("pages/runs.py")
