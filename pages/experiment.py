"""Experiment: pick architectures and hyperparameter grids, see the cost, launch in the background."""

import streamlit as st

from dashboard import design_memory
from dashboard.cluster_setting import where_fits_run
from dashboard.design_memory import kept
from dashboard.explanations import architecture_guide
from dashboard.sign_in import sign_in_note
from dashboard.starting_point import coverage, start_choice
from dashboard.widgets import choose, duration, engine, md, preset
from lstm_core.api import (
    ARCHITECTURE_NAMES,
    ARCHITECTURES,
    HYPERPARAMETERS,
    MAX_SEED,
    PRUNERS,
    SCORING_NAMES,
    SCORINGS,
    SPEC_DEFAULTS,
    STRATEGIES,
    ExperimentSpec,
    MarkupShare,
    Range,
    UserError,
    default_range,
    embedding_rows_note,
    numeric,
)

GROUPS: dict[str, list[str]] = {}  # each group's hyperparameters, in the table's order
for _parameter in HYPERPARAMETERS.values():
    if _parameter.group:
        GROUPS.setdefault(_parameter.group, []).append(_parameter.name)
FOLD_CHOICES = [0, 2, 3, 5, 10]
STRATEGY = {s.code: s for s in STRATEGIES}


def label(name: str) -> str:
    """A hyperparameter's name as the page shows it (with when it matters)."""
    return HYPERPARAMETERS[name].shown_label()


def show(value) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@st.cache_data(max_entries=16)
def auto_length(dataset_id: str, strip_html: bool) -> int:
    return engine().dataset_lengths(dataset_id, strip_html).auto_length


@st.cache_data(max_entries=16)
def markup(dataset_id: str) -> MarkupShare:
    return engine().dataset_markup(dataset_id)


st.title("Experiment")
workbench = engine()
workbench.warm_up()  # a worker waits, warm, so the first epoch follows Launch in seconds
datasets = workbench.datasets()
if not datasets:
    st.info("There is no dataset yet: load a file and confirm its columns first.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/description:")
    st.stop()
by_id = {d.id: d for d in datasets}
dataset = by_id[
    choose(
        st.selectbox,
        "Dataset",
        list(by_id),
        "dataset",
        missing=lambda wanted: (
            f"Dataset {md(wanted)} is not in this workspace (it may have been deleted); "
            f"showing the newest dataset, {md(datasets[0].name)}."
        ),
        format_func=lambda i: f"{by_id[i].describe()} · {i}",
    )
]
classes = dataset.class_counts
if dataset.note:
    st.caption(md(dataset.note))
st.caption("Classes: " + md(", ".join(f"{k} {v:,}" for k, v in classes.items())))
design_memory.follow(dataset.id)


def remembered_or(name: str, default, offered: list) -> list:
    """The offered values, plus any a loaded design holds (a CLI run's units=12, say)."""
    held = design_memory.remembered(dataset.id, name, default)
    return list(dict.fromkeys([*offered, *(held if isinstance(held, list) else [held])]))


start = start_choice(workbench, dataset)
st.subheader("Design")
chosen: dict[str, list] = {}
if "arch" not in start.fixed:
    chosen["arch"] = kept(
        st.multiselect,
        "Architectures (each one is a value of the grid)",
        ARCHITECTURES,
        dataset_id=dataset.id,
        name="arch",
        default=["lstm", "gru"],
        format_func=ARCHITECTURE_NAMES.get,
        help=HYPERPARAMETERS["arch"].help
        + " Each one you pick is searched as a value of the grid.",
    )
architecture_guide()
if start.fixed:
    st.caption(
        "Taken from the starting point, so not offered below: "
        + ", ".join(label(n) for n in start.fixed)
        + "."
    )
if start.vectors:
    chosen["vectors_trainable"] = [start.vectors_trainable]
html_share = markup(dataset.id)
suggested = {"strip_html": html_share.suggest_strip}  # defaults that follow the data
for group, names in GROUPS.items():
    names = [n for n in names if n not in start.fixed]
    if not names:  # all of it comes from the starting point (a saved model's text settings)
        continue
    with st.expander(group, expanded=group == "Network"):
        cells = st.columns(3)
        for index, name in enumerate(names):
            parameter = HYPERPARAMETERS[name]
            default = suggested.get(name, parameter.default)
            chosen[name] = kept(
                cells[index % 3].multiselect,
                label(name),
                remembered_or(name, [default], list(parameter.offered())),
                dataset_id=dataset.id,
                name=name,
                default=[default],
                format_func=show,
                help=parameter.help + ". Pick several values to search over them.",
            )
        if "strip_html" in names and html_share.with_markup:
            st.caption(
                md(html_share.describe())
                + (
                    "; stripping them is on by default for this data."
                    if html_share.suggest_strip
                    else "; so few that stripping them is off by default."
                )
            )
st.subheader("Search")
left, middle, right = st.columns(3)


def setting(widget, label: str, *args, name: str, **kwargs):
    """A search setting, kept per dataset like the grid."""
    default = getattr(SPEC_DEFAULTS, name)
    return kept(widget, label, *args, dataset_id=dataset.id, name=name, default=default, **kwargs)


search = setting(
    left.radio,
    "Strategy",
    list(STRATEGY),
    name="search",
    format_func=lambda code: STRATEGY[code].label,
    help=" ".join(f"{s.label}: {s.help}" for s in STRATEGIES),
)
n_iter = (
    setting(
        left.number_input,
        "Candidates to sample" if search == "random" else "Budget: candidates to try",
        1,
        10_000,
        name="n_iter",
    )
    if "n_iter" in STRATEGY[search].settings
    else design_memory.remembered(dataset.id, "n_iter", SPEC_DEFAULTS.n_iter)
)
cv = setting(
    middle.selectbox,
    "Cross-validation folds",
    sorted({*FOLD_CHOICES, design_memory.remembered(dataset.id, "cv", SPEC_DEFAULTS.cv)}),
    name="cv",
    format_func=lambda k: "none: one validation split" if k == 0 else f"{k} folds",
)
test_size = setting(middle.slider, "Held-out test share", 0.05, 0.5, step=0.05, name="test_size")
group_repeats = setting(
    middle.checkbox,
    "Keep repeated texts on one side of every split",
    name="group_repeats",
    help="A text that occurs several times (a retweet; case, spacing and links aside) goes "
    "wholly to training or to the test, and to one side of each fold, so no held-out text "
    "was seen in training.",
)
scoring = setting(
    right.selectbox, "Pick the best by", SCORINGS, name="scoring", format_func=SCORING_NAMES.get
)
seed = setting(right.number_input, "Seed (same seed, same splits)", 0, MAX_SEED, name="seed")


def range_editor() -> dict[str, Range]:
    """A pair of bounds (and a log switch) per numeric hyperparameter searched as a range."""
    offered = [n for n in HYPERPARAMETERS if numeric(n) and n not in start.fixed]
    held = design_memory.remembered(dataset.id, design_memory.RANGED, None)
    if held and not set(held) <= set(offered):  # a starting point now fixes one of them
        st.session_state[design_memory.PREFIX + design_memory.RANGED] = [
            n for n in held if n in offered
        ]
    names = kept(
        st.multiselect,
        "Search between bounds",
        offered,
        dataset_id=dataset.id,
        name=design_memory.RANGED,
        default=["learning_rate"],
        format_func=label,
        help="Any value between the bounds can be tried; the values picked in the grid "
        "above are then not used for it.",
    )
    ranges = {}
    for name in names:
        usual = default_range(name)
        parameter = HYPERPARAMETERS[name]
        cast = int if parameter.integer else float
        shape = {"min_value": cast(parameter.low), "max_value": cast(parameter.high)}
        if parameter.integer:
            shape["step"] = 1
        else:  # a click moves a bound by a tenth of a decade or a tenth of the range
            step = usual.low / 10 if usual.low > 0 else (usual.high - usual.low) / 10
            shape.update(format="%g", step=float(step))
        shown = label(name)
        keys = design_memory.range_keys(name, cast(usual.low), cast(usual.high), usual.log)
        low_key, high_key, log_key = keys
        low_cell, high_cell, log_cell = st.columns([2, 2, 1], vertical_alignment="bottom")
        low = kept(low_cell.number_input, f"{shown}: from", dataset_id=dataset.id,
                   name=low_key, default=keys[low_key], **shape)  # fmt: skip
        high = kept(high_cell.number_input, f"{shown}: to", dataset_id=dataset.id,
                    name=high_key, default=keys[high_key], **shape)  # fmt: skip
        log = kept(log_cell.checkbox, f"{shown}: log scale", dataset_id=dataset.id,
                   name=log_key, default=keys[log_key])  # fmt: skip
        ranges[name] = Range(low, high, log)
    return ranges


time_budget_s, prune, ranges = 0.0, "none", {}
if STRATEGY[search].learns:
    bayes_left, bayes_right = st.columns(2)
    time_budget_s = setting(
        bayes_left.number_input,
        "Time budget in seconds (0: none)",
        0.0,
        7 * 86_400.0,
        step=60.0,
        name="time_budget_s",
        help="No new candidate starts after this much search time (a resumed run counts "
        "its earlier time too).",
    )
    prune = setting(
        bayes_right.selectbox,
        "Pruning after each epoch",
        list(PRUNERS),
        name="prune",
        format_func=PRUNERS.get,
        help="Judged on each candidate's first fold's validation loss; pruned fits keep "
        "their epochs in the learning curves.",
    )
    ranges = range_editor()

cluster = where_fits_run(workbench)

empty = [name for name, values in chosen.items() if not values and name not in ranges]
if empty:
    st.error("Choose at least one value for: " + ", ".join(label(n) for n in empty) + ".")
    st.stop()
try:
    spec = ExperimentSpec(
        dataset.id,
        dataset.text_column,
        dataset.label_column,
        grid={name: values for name, values in chosen.items() if name not in ranges},
        search=search,
        n_iter=int(n_iter),
        ranges=ranges,
        time_budget_s=float(time_budget_s),
        prune=prune,
        cv=int(cv),
        test_size=float(test_size),
        seed=int(seed),
        group_repeats=bool(group_repeats),
        scoring=scoring,
        parent=start.parent,
        freeze=start.freeze,
        fine_tune_epochs=start.fine_tune_epochs,
        vectors=start.vectors,
        vectors_corpus=start.vectors_corpus,
        cluster=cluster,
    )
    resolved = workbench.resolve(spec)
    spec = resolved.spec
except UserError as error:
    st.error(md(error))
    st.stop()
coverage(dataset, start, spec.candidates()[0])

# texts as the candidates read them (strip HTML searched both ways: the longer length)
length = auto_length(dataset.id, all(spec.values_of("strip_html")))
fits = spec.n_fits()
a, b, c, d = st.columns(4)
a.metric("Candidates", spec.n_candidates())
b.metric(
    "Fits", fits, help="candidates x folds, plus the refit of the best on the whole training split"
)
estimate = workbench.estimate(spec, length)
c.metric(
    "Rough time",
    f"{duration(estimate.low)} – {duration(estimate.high)}",
    help="From the run's start to its end on this machine, once a worker takes it.",
)
if spec.cluster:
    d.metric("Parallel fits", "per worker", help="One fit at a time on each Dask worker")
else:
    d.metric("Parallel fits", spec.effective_n_jobs())
st.caption(f"Rough time: most likely about {duration(estimate.seconds)}. {estimate.basis}")

for advice in workbench.advice(spec, length):
    st.warning(advice)

st.subheader("Model summary per architecture")
archs = spec.architectures()
for tab, arch in zip(st.tabs([ARCHITECTURE_NAMES[a] for a in archs]), archs, strict=True):
    summary = workbench.model_summary(spec, arch, length)
    with tab:
        frozen = sum(r.params for r in summary.rows if r.frozen)
        st.dataframe(
            [
                {
                    "layer": r.layer,
                    "output shape": r.output_shape,
                    "params": r.params,
                    "weights": "frozen" if r.frozen else "trainable",
                }
                for r in summary.rows
            ],
            hide_index=True,
        )
        spread = (
            f"; across this grid {summary.smallest:,} to {summary.largest:,}"
            if summary.smallest != summary.largest
            else ""
        )
        split = (
            f": {summary.total - frozen:,} trainable, {frozen:,} frozen"
            + (
                f" (all trainable during the {spec.fine_tune_epochs} fine-tune epoch(s))"
                if spec.fine_tune_epochs
                else ""
            )
            if frozen
            else ", all trainable"
        )
        if spec.parent:
            rows = "The embedding keeps the saved model's rows (its vocabulary)."
        else:
            first = spec.candidates()[0]
            rows = embedding_rows_note(
                workbench.vocabulary_size(dataset.id, first), first["max_tokens"]
            )
        st.caption(f"Parameters {summary.total:,} (first candidate){split}{spread}. {rows}")

if sign_in_note("launch a run") and st.button(
    "Launch in the background", type="primary", key="exp_launch"
):
    try:
        run = workbench.submit(resolved)
    except UserError as error:
        st.error(md(error))
    else:
        preset("run", run.id)
        st.switch_page("pages/runs.py")
