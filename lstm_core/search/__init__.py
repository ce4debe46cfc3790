"""Search strategies: grid, random, halving and Optuna's samplers."""
