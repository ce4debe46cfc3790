"""Architectures as plug-ins: the 1-D CNN (one file) trains, predicts and exports through the
CLI like the recurrent ones, and what an architecture declares decides the search spaces."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLE_SMS, cli_here

from lstm_core.api import Engine
from lstm_core.domain.spec import ExperimentSpec
from lstm_core.search.bayes import distributions
from lstm_core.search.searchers import make_searcher


def last_json(text: str):
    return json.loads(text.strip().splitlines()[-1])


def test_a_cnn_trains_predicts_and_exports_through_the_cli(tmp_path, capsys, monkeypatch):
    """The CLI in this process (`cli_here`); the exported script in its own, as people run it."""
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path))
    trained = cli_here(
        capsys, "train", str(SAMPLE_SMS), "--text", "message", "--label", "label", "--arch",
        "cnn", "--set", "units=8", "--set", "embedding_dim=8", "--grid", "kernel_size=2,4",
        "--epochs", "2", "--cv", "0", "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    result = last_json(trained.stdout)
    assert result["status"] == "completed"
    assert result["best_params"]["kernel_size"] in (2, 4)
    best = Engine(tmp_path).result(result["run_id"]).best_config
    assert best["arch"] == "cnn"
    assert (best["recurrent_dropout"], best["length_buckets"]) == (None, None), "no recurrence"
    assert result["test"]["accuracy"] > 0.5
    predicted = cli_here(
        capsys, "predict", result["run_id"], "WIN a prize, call now", "See you at lunch", "--json"
    )
    assert predicted.returncode == 0, predicted.stderr
    lines = [json.loads(line) for line in predicted.stdout.strip().splitlines()]
    assert [line["label"] in ("ham", "spam") for line in lines] == [True, True]
    script = tmp_path / "train_cnn.py"
    exported = cli_here(capsys, "export-code", result["run_id"], "--out", str(script))
    assert exported.returncode == 0, exported.stderr
    code = script.read_text(encoding="utf-8")
    assert "Conv1D" in code and "LSTM" not in code and "lstm_core" not in code
    done = subprocess.run(
        [sys.executable, str(script), str(SAMPLE_SMS)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["classes"] == ["ham", "spam"]


def test_what_only_some_architectures_have_is_searched_only_with_them():
    spec = ExperimentSpec(
        "d",
        grid={
            "arch": ["lstm", "cnn"],
            "recurrent_dropout": [0.0, 0.2],
            "kernel_size": [3, 5],
            "units": [4, 8],
        },
    ).validated()
    pairs = sorted(
        (c["arch"], c["recurrent_dropout"] or 0.0, c["kernel_size"] or 0, c["units"])
        for c in spec.candidates()
    )
    assert pairs == [
        ("cnn", 0.0, 3, 4), ("cnn", 0.0, 3, 8), ("cnn", 0.0, 5, 4), ("cnn", 0.0, 5, 8),
        ("lstm", 0.0, 0, 4), ("lstm", 0.0, 0, 8), ("lstm", 0.2, 0, 4), ("lstm", 0.2, 0, 8),
    ]  # fmt: skip
    assert spec.n_candidates() == 8, "not 16: each architecture without the other's setting"
    for config in spec.candidates():
        assert (config["kernel_size"] is None) == (config["arch"] == "lstm")
        assert (config["recurrent_dropout"] is None) == (config["arch"] == "cnn")
    sampled = ExperimentSpec("d", grid=spec.grid, search="random", n_iter=8).validated()
    drawn = {tuple(sorted(c.config.items())) for c in make_searcher(sampled).ask()}
    assert drawn == {tuple(sorted(c.items())) for c in spec.candidates()}


def test_a_setting_no_chosen_architecture_has_is_not_searched_and_is_said():
    spec = ExperimentSpec(
        "d", grid={"arch": ["lstm", "gru"], "kernel_size": [3, 5]}, search="tpe", n_iter=4
    ).validated()
    assert spec.moot() == ["kernel_size"]
    assert set(distributions(spec)) == {"arch"}
    assert spec.n_grid_points() == 2
    from lstm_core.insight.advice import design_advice

    assert any(a.startswith("kernel_size only applies to 1-D CNN") for a in design_advice(spec))


@pytest.mark.parametrize("arch", ["lstm", "cnn"])
def test_a_bayesian_candidate_holds_none_for_what_its_architecture_lacks(tmp_path, arch):
    spec = ExperimentSpec(
        "d",
        grid={"arch": [arch]},
        ranges={"recurrent_dropout": [0.0, 0.5], "units": [4, 16]},
        search="tpe",
        n_iter=2,
        cv=2,
    ).validated()
    searcher = make_searcher(spec, tmp_path / "study.db", "run", slots=2)
    for candidate in searcher.ask():
        assert (candidate.config["recurrent_dropout"] is None) == (arch == "cnn")
        assert (candidate.config["kernel_size"] is None) == (arch == "lstm")


def test_the_cnn_lives_in_its_own_file_alone():
    """A plug-in is one file: no other engine or dashboard module names the CNN's code or
    its own hyperparameter (as a string, the way settings are named; Keras' attribute of
    the same name, read off a built layer, is not ours), so nothing else changed to add it."""
    own = ROOT / "lstm_core" / "domain" / "architectures" / "cnn.py"
    sources = [*(ROOT / "lstm_core").rglob("*.py"), *(ROOT / "dashboard").rglob("*.py")]
    sources += [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]
    naming = re.compile(r"""["'](cnn|kernel_size)["']""")
    elsewhere = [
        str(p.relative_to(ROOT)) for p in sources if p != own and naming.search(p.read_text())
    ]
    assert elsewhere == []
