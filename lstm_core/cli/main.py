"""`lstm-core`: the dashboard's twin for scripts, tests and benchmarks.

Its output is a contract: with `--json` the last line printed is one JSON value (one
object, a list of objects for `runs` and `datasets`, or one object per text for
`predict`). A mistake in the input prints one line and exits with status 2; Ctrl-C ends
with 130 and a closed pipe (`| head`) with 141, quietly. Text that came from a person's
file (labels, texts, column names) is printed with its control characters escaped, so a
label cannot move the cursor or retitle the terminal. It talks to the engine only through
`lstm_core.api`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
from pathlib import Path

from lstm_core.api import (
    FREEZE,
    HALVING_RESOURCES,
    MLFLOW_EXPERIMENT,
    PRUNERS,
    SCHEDULER_VARIABLE,
    SCORINGS,
    SEARCHES,
    SELF_VECTORS,
    SERVE_HOST,
    SERVE_PORT,
    SPEC_DEFAULTS,
    Engine,
    ExperimentSpec,
    MarkupShare,
    Progress,
    Run,
    RunResult,
    RunStatus,
    Trial,
    UserError,
    default_scheduler,
    parse_assignment,
    parse_range,
    to_plain,
)

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
# C0 and C1 controls (tab aside), DEL, and the bidirectional controls that reorder text
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: object) -> str:
    """`text` with control characters shown as escapes (`\\x1b`), never sent raw."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"lstm-core: {printable(message)} (see lstm-core --help)\n")


def _print_json(payload) -> None:
    print(json.dumps(payload, default=str))


def cmd_inspect(args) -> int:
    started = time.perf_counter()
    _, report = Engine().read_path(args.file, encoding=args.encoding, sheet=args.sheet)
    seconds = time.perf_counter() - started
    if args.json:
        _print_json({**report.to_dict(), "seconds": round(seconds, 3)})
        return 0
    delimiter = f", delimiter {report.delimiter}" if report.reading.delimiter else ""
    print(
        f"{printable(args.file)}: {report.rows:,} rows, read as "
        f"{printable(report.reading.describe())}{delimiter}"
    )
    for column in report.columns:
        print(
            f"  {printable(column.name):<24} {column.kind:<8} {column.distinct:>8,} distinct  "
            f"mean length {column.mean_length}"
        )
    print(
        f"suggested text: {printable(report.suggested_text)}   "
        f"suggested label: {printable(report.suggested_label)}"
    )
    for warning in report.warnings:
        print(f"note: {printable(warning)}")
    for example in report.undecodable_examples:
        print(f"  e.g. {printable(example)}")
    return 0


def cmd_validate(args) -> int:
    """Would `train` accept these columns, and what deserves a second look? (exit 1: no)"""
    engine = Engine()
    frame, report = engine.read_path(args.file, encoding=args.encoding, sheet=args.sheet)
    problems = engine.column_problems(frame, args.text, args.label, args.cv, args.test_size)
    warnings = list(report.warnings)  # how the file was read: repairs, sheets, ...
    if not problems:
        warnings += engine.column_warnings(frame, args.text, args.label)
    markup = None if problems else engine.markup_share(frame[args.text])
    if markup is not None and markup.with_markup:
        default = "its default for this file" if markup.suggest_strip else "off by default"
        warnings.append(f"{markup.describe()}; train --strip-html removes them ({default}).")
    if args.json:
        _print_json(
            {
                "ok": not problems,
                "rows": len(frame),
                "problems": problems,
                "warnings": warnings,
                "markup": markup and {**to_plain(markup), "share": markup.share},
            }
        )
    else:
        for problem in problems:
            print(f"problem: {printable(problem)}")
        for warning in warnings:
            print(f"note: {printable(warning)}")
        if not problems:
            print(
                f"{printable(args.file)}: '{printable(args.text)}' -> '{printable(args.label)}' can be trained on"
            )
    return 1 if problems else 0


def _spec_from_args(args, dataset_id: str = "") -> ExperimentSpec:
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
    ).validated(given)


def _run_json(run: Run) -> dict:
    return {
        "id": run.id,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "trials_done": run.trials_done,
        "trials_total": run.trials_total,
        "architectures": run.architectures,
        "dataset": {
            "id": run.dataset.id,
            "name": run.dataset.name,
            "text_column": run.dataset.text_column,
            "label_column": run.dataset.label_column,
            "rows": run.dataset.rows,
        },
        "spec": run.spec.to_dict(),
        "error": run.error,
        "name": run.name,
        "note": run.note,
    }


def _trial_json(trial: Trial) -> dict:
    return {
        "id": trial.id,
        "number": trial.number,
        "candidate": trial.candidate,
        "round": trial.round,
        "fold": trial.fold,
        "status": trial.status,
        "score": trial.score,
        "accuracy": trial.accuracy,
        "n_train": trial.n_train,
        "pid": trial.pid,
        "worker": trial.worker,
        "params": trial.params,
    }


def _progress_json(progress: Progress, trials: list[Trial]) -> dict:
    return {
        "run_id": progress.run_id,
        "status": progress.status,
        "pid": progress.pid,
        "trials_done": progress.trials_done,
        "trials_total": progress.trials_total,
        "epochs_logged": progress.epochs_logged,
        "progress": progress.fraction,
        "elapsed_s": progress.elapsed_s,
        "eta_s": progress.eta_s,
        "latest_metrics": to_plain(progress.latest),
        "error": progress.error,
        "started_at": progress.started_at,
        "trials": [_trial_json(t) for t in trials],
    }


def _result_json(result: RunResult | None) -> dict:
    """What a finished run scored: held-out test, both baselines, cross-validation."""
    if result is None:
        return {
            "test": None,
            "baseline": None,
            "majority": None,
            "cv": None,
            "parent": None,
            "parameters": None,
            "vectors": None,
        }
    return {
        "test": result.test.summary(),
        "baseline": result.baseline.summary(),
        "majority": result.majority and result.majority.summary(),
        "cv": result.cv(),
        "parent": result.parent,
        "parameters": to_plain(result.parameters),
        "vectors": to_plain(result.vectors),
    }


def _with_markup_default(spec: ExperimentSpec, markup: MarkupShare) -> ExperimentSpec:
    """Strip HTML where enough texts hold some, unless the design says (or a saved model it
    starts from decides) otherwise: the Experiment page's default too."""
    decided = bool(spec.parent) or "strip_html" in spec.params or "strip_html" in spec.grid
    if decided or not markup.suggest_strip:
        return spec
    return dataclasses.replace(spec, params={**spec.params, "strip_html": True})


def _markup_note(spec: ExperimentSpec, markup: MarkupShare) -> str:
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


def cmd_train(args) -> int:
    design = _spec_from_args(args)  # every setting checked before the files are read
    engine = Engine()
    if design.cluster:  # an unreachable scheduler is said now, not as a failed run
        cluster = engine.check_cluster(design.cluster)
        print(
            f"note: fits run on the Dask cluster at {printable(cluster.scheduler)} "
            f"({cluster.workers} worker(s)"
            + (f", dashboard {printable(cluster.dashboard)}" if cluster.dashboard else "")
            + ")",
            file=sys.stderr,
        )
    if design.vectors and design.vectors != SELF_VECTORS:
        design = dataclasses.replace(design, vectors=engine.add_vectors(design.vectors).id)
    if design.vectors_corpus:
        corpus = engine.add_corpus(design.vectors_corpus)
        design = dataclasses.replace(design, vectors_corpus=corpus.id)
    frame, report = engine.read_path(args.file, encoding=args.encoding, sheet=args.sheet)
    dataset, notes = engine.freeze_dataset(
        frame,
        args.text,
        args.label,
        Path(args.file).name,
        design.cv,
        design.test_size,
        reading=report.reading,
    )
    spec = dataclasses.replace(design, dataset_id=dataset.id)
    markup = engine.dataset_markup(dataset.id)
    spec = engine.resolve(_with_markup_default(spec, markup))  # a bad design: its one line only
    warnings = [*report.warnings, *engine.column_warnings(frame, args.text, args.label)]
    if markup.with_markup:
        warnings.append(_markup_note(spec, markup))
    for note in [*warnings, *notes, *engine.advice(spec)]:
        print(f"note: {printable(note)}", file=sys.stderr)
    if args.background:
        run = engine.submit(spec)
        if args.json:
            _print_json({"run_id": run.id, "status": run.status})
        else:
            print(f"run {run.id} {run.status}; follow it with: lstm-core status {run.id}")
        return 0
    run = engine.start(spec)
    print(
        f"run {run.id}: {spec.n_candidates()} candidate(s), {spec.n_fits()} fits, "
        f"on {dataset.rows:,} texts",
        file=sys.stderr,
    )
    run = engine.execute(run.id)
    result = engine.result(run.id)
    if args.json:
        _print_json(
            {
                "run_id": run.id,
                "status": run.status,
                "error": run.error,
                "best_params": result and result.best_params,
                "cv_best_score": result and result.cv_best_score,
                **_result_json(result),
                "median_epoch_seconds": result and result.median_epoch_seconds,
                "sequence_length": result and result.sequence_length,
            }
        )
    elif result is not None:
        test, base = result.test, result.baseline
        print(
            f"run {run.id} completed; best {printable(result.best_params)} "
            f"(CV {spec.scoring} {result.cv_best_score:.3f})"
        )
        print(f"  test:     accuracy {test.accuracy:.3f}  macro-F1 {test.macro_f1:.3f}")
        print(
            f"  baseline: accuracy {base.accuracy:.3f}  macro-F1 {base.macro_f1:.3f}  "
            f"({printable(base.model)})"
        )
        if result.parent:
            counts = result.parameters
            print(
                f"  started from run {result.parent}: {counts.trainable:,} parameters trained, "
                f"{counts.frozen:,} frozen"
            )
        if result.vectors is not None:
            v = result.vectors
            print(
                f"  word vectors ({printable(v.source)}): {v.coverage_vocabulary:.0%} of the "
                f"vocabulary, {v.coverage_tokens:.0%} of the training tokens"
            )
        floor = result.majority
        if floor is not None:
            print(
                f"  majority: accuracy {floor.accuracy:.3f}  macro-F1 {floor.macro_f1:.3f}  "
                f"({printable(floor.model)})"  # it names the class
            )
    else:
        print(f"run {run.id} {run.status}: {printable(run.error or '')}".rstrip())
    return 0 if run.status == RunStatus.COMPLETED else 1


def cmd_predict(args) -> int:
    for item in Engine().predict(args.run_id, args.texts):
        if args.json:
            _print_json(to_plain(item))
        else:
            best = item.probabilities[item.label]
            print(f"{printable(item.label)}\t{best:.3f}\t{printable(item.text)}")
    return 0


def cmd_explain(args) -> int:
    explanation = Engine().explain(args.run_id, args.text)
    if args.json:
        plain = to_plain(explanation)
        plain["gates"] = explanation.gates and explanation.gates.series()
        _print_json(plain)
        return 0
    best = explanation.probabilities[explanation.label]
    print(f"{printable(explanation.label)}\t{best:.3f}\t{printable(explanation.text)}")
    for token in explanation.tokens:
        print(f"  {printable(token.token):<20} {token.attribution:+.4f}")
    print(f"({explanation.method}; completeness gap {explanation.completeness_gap:+.2e})")
    return 0


def cmd_errors(args) -> int:
    engine = Engine()
    if not engine.test_predictions(args.run_id):
        raise UserError(
            f"Run {args.run_id} kept no held-out predictions (it is not completed, or an "
            "older version trained it)."
        )
    wrong = engine.errors(args.run_id)
    for item in wrong:
        if args.json:
            _print_json(
                {
                    "text": item.text,
                    "true": item.true,
                    "predicted": item.predicted,
                    "probabilities": item.probabilities,
                    "baseline_predicted": item.baseline_predicted,
                }
            )
        else:
            confidence = item.probabilities.get(item.predicted, 0.0)
            print(
                f"{printable(item.true)} -> {printable(item.predicted)} ({confidence:.3f}; "
                f"baseline {printable(item.baseline_predicted)})\t{printable(item.text)}"
            )
    if not wrong and not args.json:
        print(f"run {args.run_id}: no held-out text was misclassified")
    return 0


def cmd_status(args) -> int:
    engine = Engine()
    engine.reap()
    progress = engine.progress(args.run_id)
    lost = engine.files_problem(engine.run(args.run_id))
    if args.json:
        result = engine.result(args.run_id) if progress.status == RunStatus.COMPLETED else None
        _print_json(
            {
                **_progress_json(progress, engine.trials(args.run_id)),
                **_result_json(result),
                "files_problem": lost,
            }
        )
        return 0
    eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s is not None else ""
    print(
        f"run {args.run_id} {progress.status}: {progress.trials_done}/{progress.trials_total} "
        f"fits, {progress.fraction:.0%}{eta}"
    )
    if progress.latest is not None:
        shown = {k: round(v, 4) for k, v in progress.latest.metrics().items()}
        print(f"  latest epoch {progress.latest.epoch + 1}: {shown}")
    if progress.error:
        print(f"  error: {printable(progress.error)}")
    if lost:
        print(f"  problem: {printable(lost)}")
    return 0


def cmd_cancel(args) -> int:
    print(f"run {args.run_id} {Engine().cancel(args.run_id)}")
    return 0


def cmd_resume(args) -> int:
    run = Engine().resume(args.run_id)
    if args.json:
        _print_json({"run_id": run.id, "status": run.status})
    else:
        print(f"run {run.id} {run.status}; follow it with: lstm-core status {run.id}")
    return 0


def _confirmed(args, what: str) -> None:
    if not args.yes:
        raise UserError(f"Deleting {what} cannot be undone; add --yes to confirm.")


def cmd_delete(args) -> int:
    _confirmed(args, f"run '{args.run_id}'")
    Engine().delete_run(args.run_id)
    print(f"run {args.run_id} deleted")
    return 0


def cmd_rename(args) -> int:
    run = Engine().describe_run(args.run_id, name=args.name)
    print(f"run {run.id} named {printable(run.name)}" if run.name else f"run {run.id} unnamed")
    return 0


def cmd_note(args) -> int:
    run = Engine().describe_run(args.run_id, note=args.text)
    print(f"run {run.id}: note {'kept' if run.note else 'cleared'}")
    return 0


def cmd_delete_dataset(args) -> int:
    _confirmed(args, f"dataset '{args.dataset_id}'")
    Engine().delete_dataset(args.dataset_id)
    print(f"dataset {args.dataset_id} deleted")
    return 0


def cmd_runs(args) -> int:
    engine = Engine()
    engine.reap()
    runs = engine.runs()
    lost = {run.id: engine.files_problem(run) for run in runs}
    if args.json:
        _print_json([{**_run_json(run), "files_problem": lost[run.id]} for run in runs])
        return 0
    for run in runs:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at))
        named = f'  "{printable(run.name)}"' if run.name else ""
        print(
            f"{run.id}  {run.status:<11} {created}  {'/'.join(run.architectures):<16} "
            f"{run.trials_done}/{run.trials_total or '?'} fits  {printable(run.dataset.describe())}"
            f"{named}"
        )
        if lost[run.id]:
            print(f"  problem: {printable(lost[run.id])}")
    if not runs:
        print("no runs yet; start one with lstm-core train")
    return 0


def cmd_datasets(args) -> int:
    engine = Engine()
    datasets = engine.datasets()
    runs_of = {}
    for run in engine.runs(limit=100_000):
        runs_of[run.dataset.id] = runs_of.get(run.dataset.id, 0) + 1
    if args.json:
        _print_json([{**to_plain(d), "runs": runs_of.get(d.id, 0)} for d in datasets])
        return 0
    for dataset in datasets:
        print(f"{dataset.id}  {printable(dataset.describe())}  {runs_of.get(dataset.id, 0)} run(s)")
    if not datasets:
        print("no datasets yet; lstm-core train FILE saves one")
    return 0


def cmd_doctor(args) -> int:
    checkup = Engine().doctor(repair=args.repair)
    if args.json:
        _print_json(
            {
                "ok": checkup.ok,
                "problems": checkup.problems,
                "repaired": checkup.repaired,
                "remaining": checkup.remaining,
            }
        )
    else:
        for problem in checkup.problems:
            print(f"problem: {printable(problem)}")
        for action in checkup.repaired:
            print(f"repaired: {printable(action)}")
        if checkup.ok:
            print("all is well" if not checkup.problems else "all repaired")
        elif not args.repair:
            print("run lstm-core doctor --repair to fix what can be fixed")
        else:
            for problem in checkup.remaining:
                print(f"still: {printable(problem)}")
    return 0 if checkup.ok else 1


def cmd_export(args) -> int:
    print(Engine().export_model(args.run_id, args.out or f"{args.run_id}.zip"))
    return 0


def cmd_export_code(args) -> int:
    print(Engine().export_code(args.run_id, args.out))
    return 0


def cmd_serve(args) -> int:
    loopback = args.host == "localhost" or args.host == "::1" or args.host.startswith("127.")

    def ready(url: str) -> None:
        reach = (
            "only this machine can reach it (--host 0.0.0.0 opens it to others)"
            if loopback
            else f"it listens on {printable(args.host)}, open to other machines"
        )
        print(
            f"serving run {printable(args.run_id)} at {printable(url)} (API docs: "
            f"{printable(url)}/docs); {reach}; Ctrl-C stops it",
            flush=True,
        )

    Engine().serve(args.run_id, args.host, args.port, ready)
    return 0


def cmd_export_mlflow(args) -> int:
    export = Engine().export_mlflow(args.run_id, args.tracking_uri or "", args.experiment)
    if args.json:
        _print_json(to_plain(export))
    else:
        print(f"run {args.run_id}: {printable(export.describe())}")
    return 0


def _reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--encoding", help="the file's text encoding, e.g. utf-8, cp1252 (default: guessed)"
    )
    command.add_argument(
        "--sheet", help="an Excel file's sheet (default: the one with the most rows)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstm-core", description="Recurrent text classifiers from a CSV.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    inspect = commands.add_parser(
        "inspect", help="show how a table is read (CSV, TSV, TXT, Excel, JSON, Parquet; gz, zip)"
    )
    inspect.add_argument("file")
    _reading_options(inspect)
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_inspect)

    defaults = SPEC_DEFAULTS
    validate = commands.add_parser(
        "validate", help="check a text and a label column before training (exit 1: problems)"
    )
    validate.add_argument("file")
    validate.add_argument("--text", required=True, help="column holding the texts")
    validate.add_argument("--label", required=True, help="column holding the labels")
    validate.add_argument("--cv", type=int, default=defaults.cv, help="folds to be used")
    validate.add_argument("--test-size", type=float, default=defaults.test_size)
    _reading_options(validate)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=cmd_validate)

    train = commands.add_parser("train", help="search recurrent models on a file")
    train.add_argument("file")
    train.add_argument("--text", required=True, help="column holding the texts")
    train.add_argument("--label", required=True, help="column holding the labels")
    train.add_argument(
        "--arch", action="append", default=[], help="rnn, lstm, gru, bilstm, bigru (repeatable)"
    )
    train.add_argument(
        "--grid", action="append", default=[], metavar="NAME=V1,V2", help="values to search"
    )
    train.add_argument("--set", action="append", default=[], metavar="NAME=V", help="a fixed value")
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
    train.add_argument(
        "--cv", type=int, default=defaults.cv, help="folds (0: one validation split)"
    )
    train.add_argument("--test-size", type=float, default=defaults.test_size)
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--scoring", choices=SCORINGS, default=defaults.scoring)
    train.add_argument(
        "--n-jobs", type=int, default=defaults.n_jobs, help="parallel fits (0: one per core)"
    )
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
        default=defaults.fine_tune_epochs,
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
    train.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help=f"run the fits on this Dask scheduler (default: ${SCHEDULER_VARIABLE})",
    )
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
    _reading_options(train)
    train.add_argument("--background", action="store_true", help="queue it and return at once")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=cmd_train)

    status = commands.add_parser("status", help="progress of a run, with its fits")
    status.add_argument("run_id")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)

    cancel = commands.add_parser("cancel", help="stop a queued or running run")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=cmd_cancel)

    resume = commands.add_parser(
        "resume", help="queue an interrupted, cancelled or failed run again; finished fits stay"
    )
    resume.add_argument("run_id")
    resume.add_argument("--json", action="store_true")
    resume.set_defaults(handler=cmd_resume)

    delete = commands.add_parser("delete", help="remove a finished run and its files")
    delete.add_argument("run_id")
    delete.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    delete.set_defaults(handler=cmd_delete)

    rename = commands.add_parser("rename", help="give a run a name ('' clears it)")
    rename.add_argument("run_id")
    rename.add_argument("name")
    rename.set_defaults(handler=cmd_rename)

    note = commands.add_parser("note", help="keep a note with a run ('' clears it)")
    note.add_argument("run_id")
    note.add_argument("text")
    note.set_defaults(handler=cmd_note)

    datasets = commands.add_parser("datasets", help="list the saved datasets")
    datasets.add_argument("--json", action="store_true")
    datasets.set_defaults(handler=cmd_datasets)

    delete_dataset = commands.add_parser("delete-dataset", help="remove a dataset no run uses")
    delete_dataset.add_argument("dataset_id")
    delete_dataset.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    delete_dataset.set_defaults(handler=cmd_delete_dataset)

    predict = commands.add_parser("predict", help="label texts with a run's saved model")
    predict.add_argument("run_id")
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(handler=cmd_predict)

    explain = commands.add_parser(
        "explain", help="why a run's model labels a text so: token attributions and gates"
    )
    explain.add_argument("run_id")
    explain.add_argument("text")
    explain.add_argument("--json", action="store_true")
    explain.set_defaults(handler=cmd_explain)

    errors = commands.add_parser(
        "errors", help="the held-out texts a run's model got wrong, most confident first"
    )
    errors.add_argument("run_id")
    errors.add_argument("--json", action="store_true")
    errors.set_defaults(handler=cmd_errors)

    runs = commands.add_parser("runs", help="list runs in the workspace")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=cmd_runs)

    doctor = commands.add_parser(
        "doctor", help="check the workspace; --repair rebuilds what it can from the run folders"
    )
    doctor.add_argument("--repair", action="store_true")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)

    export = commands.add_parser("export", help="write a run's model bundle as one zip")
    export.add_argument("run_id")
    export.add_argument("--out", help="zip path (default RUN_ID.zip)")
    export.set_defaults(handler=cmd_export)

    export_code = commands.add_parser(
        "export-code", help="write a run's best configuration as a plain Keras script"
    )
    export_code.add_argument("run_id")
    export_code.add_argument("--out", required=True, help="the script's path (FILE.py)")
    export_code.set_defaults(handler=cmd_export_code)

    serve = commands.add_parser(
        "serve", help="answer predictions for a run's model over HTTP (a REST API, docs at /docs)"
    )
    serve.add_argument("run_id")
    serve.add_argument(
        "--host",
        default=SERVE_HOST,
        help=f"address to listen on (default {SERVE_HOST}: this machine only)",
    )
    serve.add_argument(
        "--port", type=int, default=SERVE_PORT, help=f"default {SERVE_PORT}; 0: any free port"
    )
    serve.set_defaults(handler=cmd_serve)

    export_mlflow = commands.add_parser(
        "export-mlflow", help="log a run into MLflow: a parent run, a child run per candidate"
    )
    export_mlflow.add_argument("run_id")
    export_mlflow.add_argument(
        "--tracking-uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        metavar="URI",
        help="e.g. sqlite:///mlflow.db (default: $MLFLOW_TRACKING_URI)",
    )
    export_mlflow.add_argument(
        "--experiment", default=MLFLOW_EXPERIMENT, help=f"default {MLFLOW_EXPERIMENT}"
    )
    export_mlflow.add_argument("--json", action="store_true")
    export_mlflow.set_defaults(handler=cmd_export_mlflow)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return status
    except UserError as exc:
        print(f"lstm-core: {printable(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lstm-core: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): no traceback, no more output
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
