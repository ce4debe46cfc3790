"""`lstm-core`: the dashboard's twin for scripts, tests and benchmarks.

Its output is a contract: with `--json` the last line printed is one JSON value (one
object, a list of objects for `runs` and `datasets`, or one object per text for
`predict`). A mistake in the input prints one line and exits with status 2; Ctrl-C ends
with 130 and a closed pipe (`| head`) with 141, quietly. Text that came from a person's
file (labels, texts, column names) is printed with its control characters escaped, so a
label cannot move the cursor or retitle the terminal. It talks to the engine only through
`lstm_core.api`; each command group is its own module (`parser` lists them).
"""

from __future__ import annotations

import os
import sys

from lstm_core.api import UserError
from lstm_core.cli.console import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    printable,
)
from lstm_core.cli.parser import build_parser


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
