"""Where runs, trials and epochs live: the store, its schema and the workspace folder."""
