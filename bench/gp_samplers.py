"""Gaussian-process search with and without PyTorch, on spaces shaped like the workbench's:
`python bench/gp_samplers.py [--seeds K] [--trials N] [--json]`.

The scikit-learn sampler (lstm_core.search.gaussian_process, what `search="gp"` uses) beside
Optuna's own GPSampler (PyTorch; skipped when torch is not installed), TPE and random draws,
on two objectives over a log learning rate, log units and a categorical architecture: a smooth
bowl, and the same bowl with noise (scores from a few folds are noisy). Each sampler starts
with 4 random candidates. Prints each sampler's mean best score (higher is better; 0.2 is the
best there is), its worst seed, and its seconds per proposal, measured in this one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import statistics
import time

import optuna

from lstm_core.search.gaussian_process import ScikitGPSampler

BONUS = {"lstm": 0.0, "gru": 0.2, "rnn": -1.0}


def objective(noise: float, seed: int):
    draw = random.Random(seed)

    def score(trial) -> float:
        lr = trial.suggest_float("learning_rate", 1e-5, 0.1, log=True)
        units = trial.suggest_int("units", 4, 64, log=True)
        arch = trial.suggest_categorical("arch", list(BONUS))
        bowl = -((math.log10(lr) + 2.5) ** 2) - (math.log2(units) - 4.5) ** 2 / 4
        return bowl + BONUS[arch] + draw.gauss(0.0, noise)

    return score


def samplers() -> dict:
    found = {
        "gp (scikit-learn)": lambda seed: ScikitGPSampler(seed=seed, n_startup_trials=4),
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, n_startup_trials=4),
        "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    }
    if importlib.util.find_spec("torch"):
        found["gp (Optuna, PyTorch)"] = lambda seed: optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=4
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=14)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report = {}
    for noise in (0.0, 0.1):
        for name, make in samplers().items():
            bests, started = [], time.perf_counter()
            for seed in range(args.seeds):
                study = optuna.create_study(direction="maximize", sampler=make(seed))
                study.optimize(objective(noise, seed), n_trials=args.trials)
                bests.append(objective(0.0, 0)(optuna.trial.FixedTrial(study.best_params)))
            seconds = (time.perf_counter() - started) / (args.seeds * args.trials)
            key = f"{name}, noise {noise}"
            report[key] = {
                "mean_best": statistics.mean(bests),
                "worst": min(bests),
                "s_per": seconds,
            }
            print(
                f"{key:32} mean best {statistics.mean(bests):6.3f}  worst {min(bests):6.3f}  "
                f"{seconds:.3f} s a proposal"
            )
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
