"""Options several commands share, and the check that a deletion was confirmed."""

from __future__ import annotations

import argparse

from lstm_core.api import UserError


def reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--encoding", help="the file's text encoding, e.g. utf-8, cp1252 (default: guessed)"
    )
    command.add_argument(
        "--sheet", help="an Excel file's sheet (default: the one with the most rows)"
    )


def confirm_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")


def confirmed(args, what: str) -> None:
    """Nothing when `--yes` was given; else the sentence that asks for it."""
    if not args.yes:
        raise UserError(f"Deleting {what} cannot be undone; add --yes to confirm.")
