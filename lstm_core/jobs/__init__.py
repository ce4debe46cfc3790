"""Background runs: the queue, worker processes, the supervisor and warm standby."""
