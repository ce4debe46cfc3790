"""Running a search: one trial, the executors that fit trials, a whole run."""
