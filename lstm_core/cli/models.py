"""`predict`, `explain`, `errors`, `export`, `export-code`, `serve`, `export-mlflow`: a
completed run's model asked, examined, served and written out."""

from __future__ import annotations

import argparse
import os

from lstm_core.api import MLFLOW_EXPERIMENT, Engine, UserError, to_plain
from lstm_core.cli.console import print_json, printable

SERVE_HOST = "127.0.0.1"  # a served model answers this machine only, unless told otherwise
SERVE_PORT = 8000


def cmd_predict(args) -> int:
    for item in Engine().predict(args.run_id, args.texts):
        if args.json:
            print_json(to_plain(item))
        else:
            best = item.probabilities[item.label]
            print(f"{printable(item.label)}\t{best:.3f}\t{printable(item.text)}")
    return 0


def cmd_explain(args) -> int:
    explanation = Engine().explain(args.run_id, args.text)
    if args.json:
        plain = to_plain(explanation)
        plain["gates"] = explanation.gates and explanation.gates.series()
        print_json(plain)
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
            print_json(
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


def cmd_export(args) -> int:
    print(Engine().export_model(args.run_id, args.out or f"{args.run_id}.zip"))
    return 0


def cmd_export_code(args) -> int:
    print(Engine().export_code(args.run_id, args.out))
    return 0


def cmd_serve(args) -> int:
    from lstm_core.cli.serving import serve  # FastAPI loads only for this command

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

    serve(Engine(), args.run_id, args.host, args.port, ready)
    return 0


def cmd_export_mlflow(args) -> int:
    export = Engine().export_mlflow(args.run_id, args.tracking_uri or "", args.experiment)
    if args.json:
        print_json(to_plain(export))
    else:
        print(f"run {args.run_id}: {printable(export.describe())}")
    return 0


def add_asking_commands(commands: argparse._SubParsersAction) -> None:
    """`predict`, `explain`, `errors`: what the model says, and where it is wrong."""
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


def add_sharing_commands(commands: argparse._SubParsersAction) -> None:
    """`export`, `export-code`, `serve`, `export-mlflow`: the model taken elsewhere."""
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
