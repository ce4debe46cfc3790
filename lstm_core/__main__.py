"""`python -m lstm_core` is the same as `lstm-core`."""

from lstm_core.cli import main

raise SystemExit(main())
