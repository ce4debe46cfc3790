"""The store's backends, one module each (with its migrations in `store.migrations`)."""
