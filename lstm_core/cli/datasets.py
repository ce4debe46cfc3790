"""`inspect`, `validate`, `datasets`, `delete-dataset`: files read and datasets kept."""

from __future__ import annotations

import argparse
import time

from lstm_core.api import SPEC_DEFAULTS, Engine, to_plain
from lstm_core.cli.console import print_json, printable
from lstm_core.cli.options import confirm_option, confirmed, reading_options


def cmd_inspect(args) -> int:
    started = time.perf_counter()
    _, report = Engine().read_path(args.file, encoding=args.encoding, sheet=args.sheet)
    seconds = time.perf_counter() - started
    if args.json:
        print_json({**report.to_dict(), "seconds": round(seconds, 3)})
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
        print_json(
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


def cmd_datasets(args) -> int:
    engine = Engine()
    datasets = engine.datasets()
    runs_of = {}
    for run in engine.runs(limit=100_000):
        runs_of[run.dataset.id] = runs_of.get(run.dataset.id, 0) + 1
    if args.json:
        print_json([{**to_plain(d), "runs": runs_of.get(d.id, 0)} for d in datasets])
        return 0
    for dataset in datasets:
        print(f"{dataset.id}  {printable(dataset.describe())}  {runs_of.get(dataset.id, 0)} run(s)")
    if not datasets:
        print("no datasets yet; lstm-core train FILE saves one")
    return 0


def cmd_delete_dataset(args) -> int:
    confirmed(args, f"dataset '{args.dataset_id}'")
    Engine().delete_dataset(args.dataset_id)
    print(f"dataset {args.dataset_id} deleted")
    return 0


def add_reading_commands(commands: argparse._SubParsersAction) -> None:
    """`inspect` and `validate`: a file looked at before anything is kept."""
    inspect = commands.add_parser(
        "inspect", help="show how a table is read (CSV, TSV, TXT, Excel, JSON, Parquet; gz, zip)"
    )
    inspect.add_argument("file")
    reading_options(inspect)
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_inspect)

    validate = commands.add_parser(
        "validate", help="check a text and a label column before training (exit 1: problems)"
    )
    validate.add_argument("file")
    validate.add_argument("--text", required=True, help="column holding the texts")
    validate.add_argument("--label", required=True, help="column holding the labels")
    validate.add_argument("--cv", type=int, default=SPEC_DEFAULTS.cv, help="folds to be used")
    validate.add_argument("--test-size", type=float, default=SPEC_DEFAULTS.test_size)
    reading_options(validate)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=cmd_validate)


def add_dataset_commands(commands: argparse._SubParsersAction) -> None:
    """`datasets` and `delete-dataset`: the datasets kept in the workspace."""
    datasets = commands.add_parser("datasets", help="list the saved datasets")
    datasets.add_argument("--json", action="store_true")
    datasets.set_defaults(handler=cmd_datasets)

    delete_dataset = commands.add_parser("delete-dataset", help="remove a dataset no run uses")
    delete_dataset.add_argument("dataset_id")
    confirm_option(delete_dataset)
    delete_dataset.set_defaults(handler=cmd_delete_dataset)
