"""`lstm-core`: the dashboard's twin for scripts, tests and benchmarks.

Its output is a contract: with `--json` the last line printed is one JSON object (or one
per text for `predict`). A mistake in the input prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lstm_core.errors import UserError
from lstm_core.hyperparams import parse_assignment
from lstm_core.spec import SCORINGS, SEARCHES, ExperimentSpec
from lstm_core.workspace import Workspace

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"lstm-core: {message} (see lstm-core --help)\n")


def _print_json(payload) -> None:
    print(json.dumps(payload, default=str))


def _without_curves(metrics: dict | None) -> dict | None:
    """Curve points are for charts (they stay in the store), not for a terminal."""
    return metrics and {k: v for k, v in metrics.items() if not k.endswith("_curve")}


def cmd_inspect(args) -> int:
    from lstm_core.intake import read_path

    started = time.perf_counter()
    _, report = read_path(args.file)
    seconds = time.perf_counter() - started
    if args.json:
        _print_json({**report.to_dict(), "seconds": round(seconds, 3)})
        return 0
    print(
        f"{args.file}: {report.rows:,} rows, encoding {report.encoding}, delimiter {report.delimiter}"
    )
    for column in report.columns:
        print(
            f"  {column.name:<24} {column.kind:<8} {column.distinct:>8,} distinct  "
            f"mean length {column.mean_length}"
        )
    print(f"suggested text: {report.suggested_text}   suggested label: {report.suggested_label}")
    for warning in report.warnings:
        print(f"note: {warning}")
    return 0


def _spec_from_args(args, dataset_id: str) -> ExperimentSpec:
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
    return ExperimentSpec(
        dataset_id=dataset_id,
        text_column=args.text,
        label_column=args.label,
        params=params,
        grid=grid,
        search=args.search,
        n_iter=args.n_iter,
        cv=args.cv,
        test_size=args.test_size,
        seed=args.seed,
        scoring=args.scoring,
        n_jobs=args.n_jobs,
    ).validated()


def cmd_train(args) -> int:
    from lstm_core.datasets import freeze_dataset
    from lstm_core.intake import read_path
    from lstm_core.jobs import submit
    from lstm_core.training import execute_run, submit_run
    from lstm_core.validation import select_columns

    workspace = Workspace()
    df, _ = read_path(args.file)
    data = select_columns(df, args.text, args.label, args.cv, args.test_size)
    dataset_id = freeze_dataset(workspace, data, Path(args.file).name, args.text, args.label)
    spec = _spec_from_args(args, dataset_id)
    if args.background:
        run_id = submit(workspace, spec)
        status = workspace.store.get_run(run_id)["status"]
        if args.json:
            _print_json({"run_id": run_id, "status": status})
        else:
            print(f"run {run_id} {status}; follow it with: lstm-core status {run_id}")
        return 0
    run_id = submit_run(workspace, spec, foreground=True)
    print(
        f"run {run_id}: {spec.n_candidates()} candidate(s), about {spec.n_fits()} fits, "
        f"on {len(data.texts):,} texts",
        file=sys.stderr,
    )
    run = execute_run(workspace, run_id)
    result = run["result"] or {}
    if args.json:
        _print_json(
            {
                "run_id": run_id,
                "status": run["status"],
                "error": run["error"],
                "best_params": result.get("best_params"),
                "cv_best_score": result.get("cv_best_score"),
                "test": _without_curves(result.get("test")),
                "baseline": _without_curves(result.get("baseline")),
                "median_epoch_seconds": result.get("median_epoch_seconds"),
                "sequence_length": result.get("sequence_length"),
            }
        )
    elif run["status"] == "completed":
        test, base = result["test"], result["baseline"]
        print(
            f"run {run_id} completed; best {result['best_params']} (CV {spec.scoring} {result['cv_best_score']:.3f})"
        )
        print(f"  test:     accuracy {test['accuracy']:.3f}  macro-F1 {test['macro_f1']:.3f}")
        print(
            f"  baseline: accuracy {base['accuracy']:.3f}  macro-F1 {base['macro_f1']:.3f}  ({base['model']})"
        )
    else:
        print(f"run {run_id} {run['status']}: {run['error'] or ''}".rstrip())
    return 0 if run["status"] == "completed" else 1


def cmd_predict(args) -> int:
    from lstm_core.bundle import Bundle

    workspace = Workspace()
    folder = workspace.bundle_dir(args.run_id)
    if workspace.store.get_run(args.run_id) is None or not folder.exists():
        raise UserError(
            f"Run '{args.run_id}' has no saved model in {workspace.root}; see lstm-core runs."
        )
    for item in Bundle.load(folder).predict(args.texts):
        if args.json:
            _print_json(item)
        else:
            best = item["probabilities"][item["label"]]
            print(f"{item['label']}\t{best:.3f}\t{item['text']}")
    return 0


def cmd_status(args) -> int:
    from lstm_core.jobs import refresh
    from lstm_core.progress import run_progress

    workspace = Workspace()
    refresh(workspace)
    progress = run_progress(workspace.store, args.run_id)
    if progress is None:
        raise UserError(f"There is no run '{args.run_id}' in {workspace.root}; see lstm-core runs.")
    if args.json:
        _print_json(progress)
        return 0
    eta = f", about {progress['eta_s']:.0f} s left" if progress["eta_s"] is not None else ""
    print(
        f"run {args.run_id} {progress['status']}: {progress['trials_done']}/{progress['trials_total']} fits, "
        f"{progress['progress']:.0%}{eta}"
    )
    latest = progress["latest_metrics"]
    if latest:
        shown = {
            k: round(latest[k], 4)
            for k in ("loss", "accuracy", "val_loss", "val_accuracy")
            if latest[k] is not None
        }
        print(f"  latest epoch {latest['epoch'] + 1}: {shown}")
    if progress["error"]:
        print(f"  error: {progress['error']}")
    return 0


def cmd_cancel(args) -> int:
    from lstm_core.jobs import cancel

    status = cancel(Workspace(), args.run_id)
    print(f"run {args.run_id} {status}")
    return 0


def cmd_runs(args) -> int:
    from lstm_core.jobs import refresh

    workspace = Workspace()
    refresh(workspace)
    runs = workspace.store.list_runs()
    if args.json:
        _print_json(runs)
        return 0
    for run in runs:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created_at"]))
        archs = ",".join(
            run["spec"].get("grid", {}).get("arch", [run["spec"]["params"].get("arch", "lstm")])
        )
        print(
            f"{run['id']}  {run['status']:<11} {created}  {archs:<16} "
            f"{run['trials_done']}/{run['trials_total'] or '?'} fits"
        )
    if not runs:
        print("no runs yet; start one with lstm-core train")
    return 0


def cmd_export(args) -> int:
    from lstm_core.bundle import export_zip

    workspace = Workspace()
    folder = workspace.bundle_dir(args.run_id)
    if not folder.exists():
        raise UserError(
            f"Run '{args.run_id}' has no saved model in {workspace.root}; see lstm-core runs."
        )
    print(export_zip(folder, args.out or f"{args.run_id}.zip"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstm-core", description="Recurrent text classifiers from a CSV.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    inspect = commands.add_parser("inspect", help="show how a CSV / TSV / TXT file is read")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_inspect)

    train = commands.add_parser("train", help="grid-search recurrent models on a file")
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
    train.add_argument("--search", choices=SEARCHES, default="grid")
    train.add_argument("--n-iter", type=int, default=10, help="candidates for random search")
    train.add_argument("--cv", type=int, default=3, help="folds (0: one validation split)")
    train.add_argument("--test-size", type=float, default=0.2)
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--scoring", choices=SCORINGS, default="f1_macro")
    train.add_argument("--n-jobs", type=int, default=0, help="parallel fits (0: one per core)")
    train.add_argument("--background", action="store_true", help="queue it and return at once")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=cmd_train)

    status = commands.add_parser("status", help="progress of a run")
    status.add_argument("run_id")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)

    cancel = commands.add_parser("cancel", help="stop a queued or running run")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=cmd_cancel)

    predict = commands.add_parser("predict", help="label texts with a run's saved model")
    predict.add_argument("run_id")
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(handler=cmd_predict)

    runs = commands.add_parser("runs", help="list runs in the workspace")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=cmd_runs)

    export = commands.add_parser("export", help="write a run's model bundle as one zip")
    export.add_argument("run_id")
    export.add_argument("--out", help="zip path (default RUN_ID.zip)")
    export.set_defaults(handler=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"lstm-core: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
