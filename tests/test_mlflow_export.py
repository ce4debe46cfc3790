"""`lstm-core export-mlflow` and the Runs page's button: a run written into a real SQLite
tracking store and read back with MLflow's own client."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from conftest import tiny_spec, toy_texts

mlflow = pytest.importorskip("mlflow", reason='MLflow is an extra: pip install -e ".[test]"')

from mlflow import MlflowClient  # noqa: E402

from lstm_core.api import Engine, RunStatus, UserError  # noqa: E402
from lstm_core.cli.main import main  # noqa: E402
from lstm_core.models.bundle import Bundle  # noqa: E402

EPOCHS = 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Engine, str]:
    """A completed run of two candidates (LSTM, GRU) x 2 folds, 2 epochs each."""
    import pandas as pd

    engine = Engine(tmp_path_factory.mktemp("ws"))
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels})
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "spam.csv")
    run = engine.train(tiny_spec(dataset.id, epochs=EPOCHS))
    assert run.status == RunStatus.COMPLETED, run.error
    return engine, run.id


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> tuple[str, dict]:
    """The run exported by the CLI: the tracking URI and what `--json` printed."""
    engine, run_id = trained
    database = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    uri = f"sqlite:///{database}"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("LSTM_CORE_HOME", str(engine.root))
        command = ["export-mlflow", run_id, "--tracking-uri", uri, "--experiment", "toy", "--json"]
        assert main(command) == 0
    answer = json.loads(printed.getvalue().strip().splitlines()[-1])
    found = _parent_and_children(uri, "toy", run_id)
    assert not answer["already"] and answer["parent_run_id"] == found["parent"].info.run_id
    return uri, found


def _parent_and_children(uri: str, experiment: str, run_id: str) -> dict:
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id], f"tags.`lstm_workbench.run_id` = '{run_id}'")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.info.run_id for r in runs]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) + 1 == len(runs)
    return {"client": client, "parent": parents[0], "children": children}


def test_the_parent_run_holds_the_design_and_the_held_out_scores(trained, exported):
    engine, run_id = trained
    _, found = exported
    parent, result, run = found["parent"], engine.result(run_id), engine.run(run_id)
    assert parent.info.status == "FINISHED" and parent.info.run_name == run.title
    params, metrics = parent.data.params, parent.data.metrics
    assert (params["search"], params["cv"], params["arch"]) == (
        "grid",
        "2",
        result.best_config["arch"],
    )
    assert json.loads(params["grid.arch"]) == ["lstm", "gru"]
    assert metrics["test_accuracy"] == pytest.approx(result.test.accuracy)
    assert metrics["test_macro_f1"] == pytest.approx(result.test.macro_f1)
    assert metrics["baseline_accuracy"] == pytest.approx(result.baseline.accuracy)
    assert metrics["cv_score"] == pytest.approx(result.cv_best_score)
    assert metrics["test_f1.spam"] == pytest.approx(result.test.per_class["spam"].f1)
    refit = found["client"].get_metric_history(parent.info.run_id, "refit/loss")
    assert [m.step for m in refit] == list(range(EPOCHS))


def test_each_candidate_is_a_child_run_with_its_epochs_and_score(trained, exported):
    engine, run_id = trained
    _, found = exported
    client, children = found["client"], found["children"]
    scores = {c.config["arch"]: c for c in engine.candidates(run_id)}
    assert sorted(child.data.params["arch"] for child in children) == ["gru", "lstm"]
    for child in children:
        arch = child.data.params["arch"]
        assert child.info.status == "FINISHED"
        assert child.data.params["units"] == "4" and child.data.params["epochs"] == str(EPOCHS)
        assert child.data.metrics["cv_score"] == pytest.approx(scores[arch].mean_score)
        for fold in (0, 1):
            history = client.get_metric_history(child.info.run_id, f"fold_{fold}/val_loss")
            assert [m.step for m in history] == list(range(EPOCHS))
            score = child.data.metrics[f"fold_{fold}/score"]
            assert score == pytest.approx(scores[arch].fold_scores[fold])


def test_the_confusion_matrix_and_the_model_are_artifacts(trained, exported, tmp_path):
    import keras
    import numpy as np

    engine, run_id = trained
    _, found = exported
    client, parent = found["client"], found["parent"]
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"confusion_matrix.html", "confusion_matrix.json", "evaluation.json", "model"} <= names
    folder = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path)))
    matrix = json.loads((folder / "confusion_matrix.json").read_text())
    assert matrix["matrix"] == engine.result(run_id).test.confusion_matrix
    assert '"type":"heatmap"' in (folder / "confusion_matrix.html").read_text()
    model = keras.models.load_model(folder / "model" / "model.keras")  # plain Keras
    bundle = Bundle.load(engine.workspace.bundle_dir(run_id))
    ids = bundle.vectorizer.transform(["win cash now"])
    assert np.allclose(
        model.predict(ids, verbose=0), bundle.predict_proba(["win cash now"]), atol=1e-6
    )


def test_exporting_again_finds_the_first_export(trained, exported):
    engine, run_id = trained
    uri, found = exported
    again = engine.export_mlflow(run_id, uri, "toy")
    assert again.already and again.parent_run_id == found["parent"].info.run_id
    assert sorted(again.child_run_ids) == sorted(c.info.run_id for c in found["children"])
    assert _parent_and_children(uri, "toy", run_id)["parent"].info.run_id == again.parent_run_id


def test_a_wrong_place_is_one_sentence(trained, tmp_path, capsys, monkeypatch):
    engine, run_id = trained
    with pytest.raises(UserError, match="There is no folder"):
        engine.export_mlflow(run_id, f"sqlite:///{tmp_path}/nowhere/mlflow.db")
    monkeypatch.setenv("LSTM_CORE_HOME", str(engine.root))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["export-mlflow", run_id]) == 2
    assert (
        capsys.readouterr().err
        == "lstm-core: Give MLflow's tracking URI, e.g. sqlite:///mlflow.db.\n"
    )
    for unknown in ("foo://bar", "sqlite//typo.db"):  # MLflow refuses these as it starts
        assert main(["export-mlflow", run_id, "--tracking-uri", unknown]) == 2
        said = capsys.readouterr().err
        assert said.startswith(f"lstm-core: MLflow at {unknown} refused the export")
        assert said.count("\n") == 1, said


def test_the_runs_page_shows_the_serve_command_and_exports(trained, monkeypatch):
    from streamlit.testing.v1 import AppTest

    engine, run_id = trained
    monkeypatch.setenv("LSTM_CORE_HOME", str(engine.root))
    app = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=120).run()
    app.switch_page("pages/runs.py").run()
    # the workspace named, so the command works from whatever folder the terminal is in
    serve = f"LSTM_CORE_HOME={engine.root} lstm-core serve {run_id}"
    assert any(serve in code.value for code in app.code), [c.value for c in app.code]
    assert app.text_input(key="runs_mlflow_uri").value == engine.default_tracking_uri()
    app.text_input(key="runs_mlflow_experiment").input("from the page")
    app.button(key="runs_mlflow_export").click().run()
    assert not app.exception and not app.error
    assert any("It is now MLflow run" in s.value for s in app.success)
    found = _parent_and_children(engine.default_tracking_uri(), "from the page", run_id)
    assert len(found["children"]) == 2
    assert (engine.root / "mlruns").is_dir(), "the artifacts sit beside the database"

    from dashboard.widgets import md
    from lstm_core.insight.mlflow_export import MISSING

    monkeypatch.setattr(
        "lstm_core.insight.mlflow_export.missing", lambda: MISSING
    )  # as if not installed
    app.run()
    assert md(MISSING) in [i.value for i in app.info]
