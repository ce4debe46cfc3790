"""The engine's public door: the pages and the CLI use only `lstm_core.api`, and it is cheap
to import; what it returns is typed."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLE_SMS

from lstm_core.api import Engine, ExperimentSpec, UserError
from lstm_core.models.model_zoo import embedding_rows

ENGINE_USERS = [
    ROOT / "app.py",
    *sorted((ROOT / "dashboard").glob("*.py")),
    *sorted((ROOT / "lstm_core" / "cli").glob("*.py")),
    *sorted((ROOT / "pages").glob("*.py")),
]


def engine_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] == "lstm_core"}


@pytest.mark.parametrize("path", ENGINE_USERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_the_cli_use_only_the_engine_api(path):
    """The CLI's own modules aside (each command group is one), only the door."""
    reached = {m for m in engine_modules(path) if m.split(".")[:2] != ["lstm_core", "cli"]}
    assert reached <= {"lstm_core.api"}, f"{path.name} reaches past lstm_core.api"


def test_importing_the_api_loads_no_heavy_library():
    code = (
        "import sys, lstm_core.api\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn', 'pandas', 'scipy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_engine_takes_a_file_to_a_designed_run_with_typed_answers(workspace):
    engine = Engine(workspace.root)
    frame, report = engine.read_path(SAMPLE_SMS)
    assert (report.suggested_text, report.suggested_label) == ("message", "label")
    assert engine.column_problems(frame, "message", "message") == [
        "The text and the label are both column 'message'; choose two different columns."
    ]
    dataset, notes = engine.freeze_dataset(frame, "message", "label", "sms_spam.csv")
    assert (dataset.rows, dataset.text_column, set(dataset.class_counts)) == (
        1500,
        "message",
        {"ham", "spam"},
    )
    assert engine.datasets() == [dataset] and engine.dataset(dataset.id) == dataset
    lengths = engine.dataset_lengths(dataset.id)
    assert 1 <= lengths.auto_length <= lengths.longest and len(lengths.lengths) == 1500
    spec = ExperimentSpec(
        dataset.id, grid={"arch": ["lstm", "gru"], "recurrent_dropout": [0.0, 0.2]}
    ).validated()
    summary = engine.model_summary(spec, "gru", lengths.auto_length)
    words = engine.vocabulary_size(dataset.id, spec.fixed())
    assert words < 10_000, "the sample's vocabulary is far below max_tokens"
    rows = summary.rows[0]
    assert (
        rows.layer.startswith("Embedding (") and rows.params == embedding_rows(words, 10_000) * 32
    )
    assert summary.total == sum(r.params for r in summary.rows) == summary.smallest
    assert engine.estimate(spec).seconds > 0
    assert any("Recurrent dropout" in a for a in engine.advice(spec))
    with pytest.raises(UserError, match="There is no run 'nope'"):
        engine.run("nope")
    with pytest.raises(UserError, match="There is no dataset 'nope'"):
        engine.dataset("nope")
    assert engine.runs() == [] and engine.result("nope") is None
