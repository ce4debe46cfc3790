"""`train`'s design options, and the `ExperimentSpec` they make: the same defaults as the
Experiment page, every setting checked before a file is read."""

from __future__ import annotations

import argparse
import dataclasses

from lstm_core.api import (
    ARCHITECTURES,
    FREEZE,
    HALVING_RESOURCES,
    PRUNERS,
    SCHEDULER_VARIABLE,
    SCORINGS,
    SEARCHES,
    SPEC_DEFAULTS,
    ExperimentSpec,
    MarkupShare,
    UserError,
    default_scheduler,
    parse_assignment,
    parse_range,
)


def spec_from_args(args, dataset_id: str = "") -> ExperimentSpec:
    grid: dict[str, list] = {}
    params: dict[str, object] = {}
    for text in args.grid:
        name, values = parse_assignment(text)
        grid[name] = values
    for text in args.set:
        name, values = parse_assignment(text)
        if len(values) != 1:
            raise UserError(f"--set {text} gives several values; use --grid for a grid.")
        params[name] = values[0]
    if args.arch:
        grid["arch"] = parse_assignment("arch=" + ",".join(args.arch))[1]
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.strip_html is not None:
        params["strip_html"] = args.strip_html
    ranges = dict(parse_range(text) for text in args.range)
    # --n-iter and --halving-resource default to None: one given must suit the search
    given = [name for name in ("n_iter", "halving_resource") if getattr(args, name) is not None]
    return ExperimentSpec(
        dataset_id=dataset_id,
        text_column=args.text,
        label_column=args.label,
        params=params,
        grid=grid,
        search=args.search,
        n_iter=SPEC_DEFAULTS.n_iter if args.n_iter is None else args.n_iter,
        cv=args.cv,
        test_size=args.test_size,
        seed=args.seed,
        scoring=args.scoring,
        n_jobs=args.n_jobs,
        halving_resource=args.halving_resource or SPEC_DEFAULTS.halving_resource,
        ranges=ranges,
        time_budget_s=args.time_budget,
        prune=args.prune,
        parent=args.parent or "",
        freeze=args.freeze or "",
        fine_tune_epochs=args.fine_tune_epochs,
        vectors=args.vectors or "",  # a path until the file is kept (cmd_train)
        vectors_corpus=args.vectors_corpus or "",
        cluster=args.cluster or default_scheduler(),
        group_repeats=args.group_repeats,
    ).validated(given)


def with_markup_default(spec: ExperimentSpec, markup: MarkupShare) -> ExperimentSpec:
    """Strip HTML where enough texts hold some, unless the design says (or a saved model it
    starts from decides) otherwise: the Experiment page's default too."""
    decided = bool(spec.parent) or "strip_html" in spec.params or "strip_html" in spec.grid
    if decided or not markup.suggest_strip:
        return spec
    return dataclasses.replace(spec, params={**spec.params, "strip_html": True})


def markup_note(spec: ExperimentSpec, markup: MarkupShare) -> str:
    """The share of texts holding HTML, and what this run does with it."""
    if spec.parent:
        done = f"run {spec.parent}'s saved model treats them as it was trained to"
    elif spec.values_of("strip_html") == [True]:
        done = "they are removed before tokenizing (--keep-html keeps them)"
    elif spec.values_of("strip_html") == [False]:
        done = "they are read as words (--strip-html removes them)"
    else:
        done = "the grid tries stripping them and keeping them"
    return f"{markup.describe()}; {done}."


def add_design_options(train: argparse.ArgumentParser) -> None:
    """Every option of `train` that shapes the design, in the order `--help` lists them."""
    _model_options(train)
    _search_options(train)
    _split_options(train)
    _starting_point_options(train)
    train.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help=f"run the fits on this Dask scheduler (default: ${SCHEDULER_VARIABLE})",
    )
    _markup_options(train)


def _model_options(train: argparse.ArgumentParser) -> None:
    train.add_argument(
        "--arch", action="append", default=[], help=f"{', '.join(ARCHITECTURES)} (repeatable)"
    )
    train.add_argument(
        "--grid", action="append", default=[], metavar="NAME=V1,V2", help="values to search"
    )
    train.add_argument("--set", action="append", default=[], metavar="NAME=V", help="a fixed value")


def _search_options(train: argparse.ArgumentParser) -> None:
    defaults = SPEC_DEFAULTS
    train.add_argument("--search", choices=SEARCHES, default=defaults.search)
    train.add_argument(
        "--n-iter",
        "--budget",
        dest="n_iter",
        type=int,
        help=f"candidates to try (random, tpe, gp; default {defaults.n_iter})",
    )
    train.add_argument(
        "--time-budget",
        type=float,
        default=defaults.time_budget_s,
        metavar="S",
        help="tpe / gp: start no candidate after S seconds of search (0: no limit)",
    )
    train.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH[:log]",
        help="tpe / gp: search a number between two bounds",
    )
    train.add_argument(
        "--prune",
        choices=PRUNERS,
        default=defaults.prune,
        help="tpe / gp: stop candidates clearly behind after an epoch",
    )
    train.add_argument(
        "--halving-resource",
        choices=HALVING_RESOURCES,
        help=f"what successive halving gives more of each round (default {defaults.halving_resource})",
    )


def _split_options(train: argparse.ArgumentParser) -> None:
    defaults = SPEC_DEFAULTS
    train.add_argument(
        "--cv", type=int, default=defaults.cv, help="folds (0: one validation split)"
    )
    train.add_argument("--test-size", type=float, default=defaults.test_size)
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument(
        "--no-group-repeats",
        dest="group_repeats",
        action="store_false",
        default=defaults.group_repeats,
        help="let repeats of a text (the same words, whatever their case, spacing or links) "
        "fall on both sides of the test split and the folds; by default each stays on one side",
    )
    train.add_argument("--scoring", choices=SCORINGS, default=defaults.scoring)
    train.add_argument(
        "--n-jobs", type=int, default=defaults.n_jobs, help="parallel fits (0: one per core)"
    )


def _starting_point_options(train: argparse.ArgumentParser) -> None:
    train.add_argument(
        "--from",
        dest="parent",
        metavar="RUN_ID",
        help="start from this run's saved model: its vectorizer, embedding and recurrent layers",
    )
    train.add_argument(
        "--freeze",
        metavar="|".join(FREEZE),
        help="with --from: the layers kept as they are while the new head trains (default "
        "all; or a comma list such as embedding,recurrent_1)",
    )
    train.add_argument(
        "--fine-tune-epochs",
        type=int,
        default=SPEC_DEFAULTS.fine_tune_epochs,
        metavar="N",
        help="then N more epochs with every layer trainable, at a tenth of the learning rate",
    )
    train.add_argument(
        "--vectors",
        metavar="PATH|self",
        help="start the embedding from word vectors: a GloVe / .vec text file (gzip too), or "
        "'self' to train word2vec on the training texts",
    )
    train.add_argument(
        "--vectors-corpus",
        metavar="PATH",
        help="with --vectors self: an unlabelled UTF-8 text file (a text per line) to train on too",
    )


def _markup_options(train: argparse.ArgumentParser) -> None:
    html = train.add_mutually_exclusive_group()
    html.add_argument(
        "--strip-html",
        dest="strip_html",
        action="store_const",
        const=True,
        help="remove HTML tags and unescape entities before tokenizing (the default when 5%% "
        "or more of the texts hold an HTML tag; entities alone never make it the default; the "
        "saved model does the same to new texts)",
    )
    html.add_argument(
        "--keep-html",
        dest="strip_html",
        action="store_const",
        const=False,
        help="read HTML tags and entities as words",
    )
