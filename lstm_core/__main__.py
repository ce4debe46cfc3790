"""`python -m lstm_core` is the same as `lstm-core`."""

from lstm_core.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
