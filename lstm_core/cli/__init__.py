"""The `lstm-core` command line."""
