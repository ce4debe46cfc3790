"""`status`, `cancel`, `resume`, `delete`, `rename`, `note`, `runs`: runs followed and kept
in order. Reading a run marks dead workers and starts nothing."""

from __future__ import annotations

import argparse
import time

from lstm_core.api import Engine, RunStatus
from lstm_core.cli.console import print_json, printable
from lstm_core.cli.options import confirm_option, confirmed
from lstm_core.cli.shapes import progress_json, result_json, run_json


def cmd_status(args) -> int:
    engine = Engine()
    engine.reap()
    progress = engine.progress(args.run_id)
    lost = engine.files_problem(engine.run(args.run_id))
    if args.json:
        result = engine.result(args.run_id) if progress.status == RunStatus.COMPLETED else None
        print_json(
            {
                **progress_json(progress, engine.trials(args.run_id)),
                **result_json(result),
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
        print_json({"run_id": run.id, "status": run.status})
    else:
        print(f"run {run.id} {run.status}; follow it with: lstm-core status {run.id}")
    return 0


def cmd_delete(args) -> int:
    confirmed(args, f"run '{args.run_id}'")
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


def cmd_runs(args) -> int:
    engine = Engine()
    engine.reap()
    runs = engine.runs()
    lost = {run.id: engine.files_problem(run) for run in runs}
    if args.json:
        print_json([{**run_json(run), "files_problem": lost[run.id]} for run in runs])
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


def add_run_commands(commands: argparse._SubParsersAction) -> None:
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
    confirm_option(delete)
    delete.set_defaults(handler=cmd_delete)

    rename = commands.add_parser("rename", help="give a run a name ('' clears it)")
    rename.add_argument("run_id")
    rename.add_argument("name")
    rename.set_defaults(handler=cmd_rename)

    note = commands.add_parser("note", help="keep a note with a run ('' clears it)")
    note.add_argument("run_id")
    note.add_argument("text")
    note.set_defaults(handler=cmd_note)

    runs = commands.add_parser("runs", help="list runs in the workspace")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=cmd_runs)
