"""`doctor`: the workspace checked, and repaired from its run folders on request."""

from __future__ import annotations

import argparse

from lstm_core.api import Engine
from lstm_core.cli.console import print_json, printable


def cmd_doctor(args) -> int:
    checkup = Engine().doctor(repair=args.repair)
    if args.json:
        print_json(
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


def add_maintenance_commands(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor", help="check the workspace; --repair rebuilds what it can from the run folders"
    )
    doctor.add_argument("--repair", action="store_true")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)
