"""The `lstm-core` command line: every command group adds its own sub-commands."""

from __future__ import annotations

import argparse

from lstm_core.cli.console import EXIT_USER_ERROR, printable
from lstm_core.cli.datasets import add_dataset_commands, add_reading_commands
from lstm_core.cli.maintenance import add_maintenance_commands
from lstm_core.cli.models import add_asking_commands, add_sharing_commands
from lstm_core.cli.runs import add_run_commands
from lstm_core.cli.training import add_train_command


class CliParser(argparse.ArgumentParser):
    """A mistake in the command line is one line and exit status 2, never a usage page."""

    def error(self, message):
        self.exit(EXIT_USER_ERROR, f"lstm-core: {printable(message)} (see lstm-core --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="lstm-core", description="Recurrent text classifiers from a CSV.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)
    add_reading_commands(commands)
    add_train_command(commands)
    add_run_commands(commands)
    add_dataset_commands(commands)
    add_asking_commands(commands)
    add_maintenance_commands(commands)
    add_sharing_commands(commands)
    return parser
