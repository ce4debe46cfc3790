"""Gaussian-process search without PyTorch: the scikit-learn sampler finds the best region of
a space shaped like ours (a log learning rate, log units, a categorical architecture)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from lstm_core.search.gaussian_process import decode, encode

SPACE = {
    "learning_rate": FloatDistribution(1e-5, 0.1, log=True),
    "units": IntDistribution(4, 64, log=True),
    "arch": CategoricalDistribution(["lstm", "gru", "rnn"]),
}

SEARCH = textwrap.dedent(
    """
    import math, sys

    class NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "torch":
                raise ModuleNotFoundError("No module named 'torch'")

    sys.meta_path.insert(0, NoTorch())
    import optuna
    from lstm_core.search.gaussian_process import ScikitGPSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def score(trial):
        lr = trial.suggest_float("learning_rate", 1e-5, 0.1, log=True)
        units = trial.suggest_int("units", 4, 64, log=True)
        arch = trial.suggest_categorical("arch", ["lstm", "gru", "rnn"])
        bonus = {"lstm": 0.0, "gru": 0.2, "rnn": -1.0}[arch]
        return -((math.log10(lr) + 2.5) ** 2) - (math.log2(units) - 4.5) ** 2 / 4 + bonus

    for name, sampler in (("gp", ScikitGPSampler), ("random", optuna.samplers.RandomSampler)):
        bests = []
        for seed in range(4):
            kwargs = {"n_startup_trials": 4} if name == "gp" else {}
            study = optuna.create_study(direction="maximize", sampler=sampler(seed=seed, **kwargs))
            study.optimize(score, n_trials=14)
            bests.append(study.best_value)
        print(name, min(bests), sum(bests) / len(bests))
    print("torch", "torch" in sys.modules)
    """
)


def test_gp_search_finds_the_best_region_without_pytorch():
    out = subprocess.run(
        [sys.executable, "-c", SEARCH], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split("\n")
    gp_worst, gp_mean = map(float, out[0].split()[1:])
    _, random_mean = map(float, out[1].split()[1:])
    assert out[2] == "torch False"
    assert gp_worst > 0.1, "the GP search ended far from the best (0.2) on some seed"
    assert gp_mean > random_mean, "the GP search did no better than random draws"


def test_a_point_comes_back_as_the_values_it_stands_for():
    params = {"learning_rate": 0.003, "units": 16, "arch": "gru"}
    point = encode(SPACE, params)
    assert len(point) == 5 and all(0.0 <= v <= 1.0 for v in point)
    back = decode(SPACE, __import__("numpy").array(point))
    assert back["arch"] == "gru" and back["units"] == 16
    assert abs(back["learning_rate"] - 0.003) < 1e-9
