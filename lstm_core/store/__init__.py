"""Where runs, trials and epochs live: the store, its backends and the workspace folder.

`run_store.RunStore` decides everything once (transitions and ownership in `lifecycle`,
fits done in `fit_counts`); a backend chosen by URL (`store_url`) only keeps the rows:
`backends/sqlite.py` with `migrations/sqlite.py`.
"""
