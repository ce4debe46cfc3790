"""The dashboard through Streamlit's AppTest: every page, the sample flow, and its messages."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from dashboard.widgets import duration, md

PAGES = [
    "pages/data.py",
    "pages/experiment.py",
    "pages/runs.py",
    "pages/compare.py",
    "pages/errors.py",
    "pages/predict.py",
]
PRIZE_TEXT = (
    "WINNER!! You have been selected to receive a £1000 prize. Call 09061701461 now to claim."
)
ORDINARY_TEXT = "Are we still on for pizza tonight? I'm at the station."


def open_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def picker_named(app: AppTest, label: str):
    """A picker whose key carries a version (widgets.choose), found by its label."""
    (picker,) = [s for s in app.selectbox if s.label == label]
    return picker


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_every_page_renders_in_an_empty_workspace(workspace):
    app = open_app()
    assert not app.exception
    assert texts(app.title) == ["Recurrent text classification workbench"]
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page
    assert "No trained model yet" in " ".join(texts(app.info))


@pytest.mark.parametrize("page", ["app.py", "pages/data.py"])
def test_home_and_data_pages_do_not_import_tensorflow(page, workspace):
    switch = "" if page == "app.py" else f"app.switch_page({page!r}).run()\n"
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run()\n"
        f"{switch}"
        "assert not app.exception, app.exception\n"
        "assert app.title[0].value in ('Recurrent text classification workbench', 'Data')\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_reading_starts_no_process_and_the_experiment_page_readies_a_warm_worker(
    toy_dataset, monkeypatch
):
    """Every page but Experiment only reads: no warm worker, no supervisor is started.
    Experiment asks for a warm worker by name (`Engine.warm_up`), so Launch finds one."""
    from test_background import wait_for

    from lstm_core.domain.processes import process_alive
    from lstm_core.jobs import standby, supervisor

    workspace, _ = toy_dataset
    monkeypatch.setenv(standby.WARM_VARIABLE, "120")
    app = open_app()
    for page in PAGES:
        if page != "pages/experiment.py":
            app.switch_page(page).run()
            assert not app.exception, page
    logs = [standby.LOG_FILE, supervisor.LOG_FILE]
    assert [f for f in logs if (workspace.root / f).exists()] == [], "reading started one"
    app.switch_page("pages/experiment.py").run()
    assert not app.exception
    wait_for(lambda: standby.alive(workspace), "the warm worker", 60)
    pid = wait_for(lambda: standby.stop(workspace), "the warm worker's pid", 30)
    wait_for(lambda: not process_alive(pid), "the warm worker to exit", 30)


def test_data_page_reports_the_sample_and_refuses_bad_columns(workspace):
    app = open_app()
    app.button(key="home_sample").click().run()
    assert texts(app.title) == ["Data"]
    report = " ".join(texts(app.markdown))
    assert "1,500 rows" in report and "cp1252" in report
    assert not app.error
    signature = next(
        s.key.rsplit("_", 1)[1] for s in app.selectbox if s.key and s.key.startswith("data_text_")
    )
    app.selectbox(key=f"data_label_{signature}").set_value("message").run()
    assert texts(app.error) == [
        md("The text and the label are both column 'message'; choose two different columns.")
    ]
    assert app.button(key="data_confirm").disabled
    app.selectbox(key=f"data_text_{signature}").set_value("label").run()
    assert any("cannot be a label" in e for e in texts(app.error))


def wait_until_finished(workspace, run_id: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = workspace.store.get_run(run_id).status
        if status.finished:
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def test_sample_flow_from_data_to_a_live_prediction(workspace):
    app = open_app()
    app.button(key="home_sample").click().run()
    app.button(key="data_confirm").click().run()
    assert any("Saved 1,500 labelled texts" in s for s in texts(app.success))

    app.switch_page("pages/experiment.py").run()
    assert not app.exception
    app.multiselect(key="exp_units").set_value([8]).run()
    app.multiselect(key="exp_embedding_dim").set_value([16]).run()
    app.selectbox(key="exp_cv").set_value(2).run()
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Candidates"], metrics["Fits"]) == ("2", "5")
    assert len(app.tabs) == 2  # a model summary for LSTM and one for GRU
    app.multiselect(key="exp_recurrent_dropout").set_value([0.0, 0.2]).run()
    assert any("Recurrent dropout about doubles" in w for w in texts(app.warning))
    app.multiselect(key="exp_recurrent_dropout").set_value([0.0]).run()
    app.button(key="exp_launch").click().run()
    assert texts(app.title) == ["Runs"]
    (run,) = workspace.store.list_runs()
    assert run.status.active

    assert wait_until_finished(workspace, run.id) == "completed"
    app = open_app()
    app.switch_page("pages/runs.py").run()
    assert not app.exception
    summary = " ".join(texts(app.success))
    assert "macro-F1" in summary and "TF-IDF baseline" in summary
    assert "most frequent class: accuracy" in summary and "accuracy" in summary.split(")")[0]
    picker = picker_named(app, "Run")
    assert picker.format_func(picker.value).endswith(
        "sms_spam.csv: message → label, 1,500 rows · LSTM/GRU · completed"
    )
    table = app.dataframe[1].value
    assert list(table.columns) == [
        "metric",
        "recurrent model",
        "TF-IDF baseline",
        "always the majority class",
    ]
    assert table["always the majority class"][0] == pytest.approx(0.85, abs=0.02)  # 15% spam
    app.text_input(key=f"runs_name_{run.id}").input("SMS, LSTM vs GRU")
    app.text_area(key=f"runs_note_{run.id}").input("units 8 only")
    app.button(key=f"runs_describe_save_{run.id}").click().run()
    assert not app.exception
    picker = picker_named(app, "Run")
    assert picker.format_func(picker.value).startswith(
        f"SMS, LSTM vs GRU ({run.id}) · sms_spam.csv"
    )
    assert "units 8 only" in texts(app.caption)

    # learning curves: one line per candidate (mean of its 2 folds) and the refit, or one
    # candidate's folds; fits numbered within the run
    (focus,) = [s for s in app.selectbox if s.label == "Learning curves of"]
    assert focus.value is None and len(focus.options) == 3

    def legend(chart) -> list[str]:
        spec = json.loads(chart.proto.spec)
        return [t["name"] for t in spec["data"] if t.get("showlegend", True) and "name" in t]

    overview = legend(app.get("plotly_chart")[-1])
    assert len(overview) == 6, overview  # (2 candidates + refit) x (train, val)
    assert sum("mean of 2 folds" in name for name in overview) == 4
    assert any(name.startswith("fit 5 · refit of the best") for name in overview)
    focus.set_value(focus.options[1]).run()
    (focus,) = [s for s in app.selectbox if s.label == "Learning curves of"]
    one = legend(app.get("plotly_chart")[-1])
    folds = [n.split(" · ") for n in one if n.endswith("train") and "fold" in n]
    assert [fold for _, fold, _ in folds] == ["fold 0", "fold 1"], one
    assert {fit for fit, _, _ in folds} <= {f"fit {n}" for n in range(1, 5)}, one

    # "Run again" opens this design in Experiment
    app.button(key="runs_again").click().run()
    assert texts(app.title) == ["Experiment"]
    assert app.multiselect(key="exp_units").value == [8]
    assert app.multiselect(key="exp_arch").value == ["lstm", "gru"]
    assert app.selectbox(key="exp_cv").value == 2
    app.switch_page("pages/runs.py").run()

    app.switch_page("pages/compare.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert set(table["architecture"]) == {"LSTM", "GRU"}

    app.switch_page("pages/predict.py").run()
    assert app.text_input(key="pred_sentence").placeholder.endswith("label as ham or spam")
    app.text_input(key="pred_sentence").input("zzzz qqqq").run()
    assert any("None of these words is in the model's vocabulary" in w for w in texts(app.warning))
    app.text_input(key="pred_sentence").input(PRIZE_TEXT).run()
    assert not app.warning
    assert "Predicted label: **spam**" in texts(app.markdown)
    app.text_input(key="pred_sentence").input(ORDINARY_TEXT).run()
    assert "Predicted label: **ham**" in texts(app.markdown)
    assert not app.exception


def test_time_estimates_are_rounded_as_an_estimate_deserves():
    assert [duration(s) for s in (None, 45, 720, 14_916)] == ["?", "45 s", "12 min", "4.1 h"]


def test_only_plain_web_links_are_drawn_as_links():
    from dashboard.widgets import SAFE_LINK

    for shown in ("http://127.0.0.1:8787/status", "http://[::1]:8787/status", "https://d.example"):
        assert SAFE_LINK.match(shown), shown
    for refused in (
        "javascript:alert(1)",
        "http://x/a)b[c](javascript:y)",
        "http://a b/",
        "ftp://x",
    ):
        assert not SAFE_LINK.match(refused), refused


def test_no_message_is_sent_as_a_reference_the_browser_may_have_dropped():
    """Streamlit sends a large element as a reference to a copy the browser said it held; if
    the browser aged that copy out meanwhile (fragments rerunning, a busy server), it shows
    "Connection error: Cached ForwardMsg MISS" (streamlit/streamlit#11357). With the
    project's config no message is marked cacheable, so none is ever sent by reference."""
    check = (
        "from streamlit import config\n"
        "from streamlit.proto.ForwardMsg_pb2 import ForwardMsg\n"
        "from streamlit.runtime.forward_msg_cache import populate_hash_if_needed\n"
        "config.get_config_options(force_reparse=True)\n"
        "msg = ForwardMsg()\n"
        "msg.delta.new_element.markdown.body = 'x' * 5_000_000\n"
        "populate_hash_if_needed(msg)\n"
        "print(msg.metadata.cacheable)\n"
    )
    shown = subprocess.run(  # a process of its own: Streamlit's config is process-wide
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "False"


def test_markdown_escaping_keeps_user_text_literal():
    assert md("<script>alert(1)</script>") == "\\<script\\>alert\\(1\\)\\</script\\>"
    assert md("**bold** [link](http://x)") == "\\*\\*bold\\*\\* \\[link\\]\\(http\\://x\\)"


def test_runs_page_resumes_a_cancelled_run_and_deletes_it_after_confirmation(toy_dataset):
    from conftest import tiny_spec

    from lstm_core.execution.training import submit_run

    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id, grid={}, cv=0))
    workspace.store.cancel_run(run_id)
    app = open_app()
    app.switch_page("pages/runs.py").run()
    assert "This run was cancelled." in texts(app.error)
    assert not [b for b in app.button if b.key == "runs_delete_confirm" and b.disabled]
    app.button(key="runs_resume").click().run()
    assert not app.exception
    assert wait_until_finished(workspace, run_id) == "completed"

    app = open_app()
    app.switch_page("pages/runs.py").run()
    assert any(s.startswith("Best:") for s in texts(app.success))
    app.button(key="runs_delete_confirm").click().run()
    assert not app.exception
    assert workspace.store.get_run(run_id) is None
    assert not workspace.run_dir(run_id).exists()
    assert "No runs yet" in " ".join(texts(app.info))


def test_data_page_deletes_a_saved_dataset_only_when_no_run_uses_it(toy_dataset):
    from conftest import tiny_spec

    from lstm_core.execution.training import submit_run

    workspace, dataset_id = toy_dataset
    run_id = submit_run(workspace, tiny_spec(dataset_id))
    workspace.store.cancel_run(run_id)
    app = open_app()
    app.switch_page("pages/data.py").run()
    app.button(key="data_delete_confirm").click().run()
    assert any("is used by 1 run" in e for e in texts(app.error))
    assert workspace.store.get_dataset(dataset_id) is not None
    workspace.store.delete_run(run_id)
    app.button(key="data_delete_confirm").click().run()
    assert not app.exception
    assert workspace.store.get_dataset(dataset_id) is None
    assert not workspace.dataset_dir(dataset_id).exists()


def test_every_chart_shows_html_in_a_label_as_typed(workspace):
    """Plotly draws a subset of HTML: a label with a tag or a link must stay text."""
    import json

    import pandas as pd
    from conftest import TINY, toy_texts

    from lstm_core.api import Engine, ExperimentSpec

    bold, link = "<b>spam</b>", '<a href="http://x.test">ham</a>'
    texts, labels = toy_texts()
    labels = [bold if label == "spam" else link for label in labels]
    engine = Engine(workspace.root)
    frame = pd.DataFrame({"text": texts, "label": labels}, dtype="str")
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "html.csv")
    spec = ExperimentSpec(dataset.id, params={**TINY, "epochs": 2}, cv=0, test_size=0.25)
    assert engine.train(spec).status == "completed"

    specs = []
    app = open_app()
    for page in ("pages/runs.py", "pages/compare.py", "pages/errors.py", "pages/predict.py"):
        app.switch_page(page).run()
        if page.endswith("predict.py"):
            app.text_input(key="pred_sentence").input("win cash prize now").run()
        assert not app.exception, page
        specs += [element.proto.spec for element in app.get("plotly_chart")]
    assert len(specs) >= 6  # curves, two matrices, ROC, PR, compare charts, probabilities

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    drawn = [text for spec in specs for text in strings(json.loads(spec))]
    assert not [text for text in drawn if "<b>" in text or "<a " in text or "</a>" in text]
    assert any("&lt;b&gt;spam&lt;/b&gt;" in text for text in drawn)
    assert any('&lt;a href="http://x.test"&gt;ham&lt;/a&gt;' in text for text in drawn)


def test_experiment_keeps_each_datasets_design_while_the_tab_is_open(workspace):
    import pandas as pd
    from conftest import toy_texts

    from lstm_core.api import Engine

    engine = Engine(workspace.root)
    texts_, labels = toy_texts()
    ids = [
        engine.freeze_dataset(
            pd.DataFrame({"text": texts_, "label": labels}, dtype="str").iloc[n:],
            "text",
            "label",
            f"set{n}.csv",
        )[0].id
        for n in range(2)
    ]
    app = open_app()
    app.switch_page("pages/experiment.py").run()
    chosen = app.selectbox(key="dataset_choice").value
    other = next(i for i in ids if i != chosen)
    app.multiselect(key="exp_units").set_value([8, 16]).run()
    app.selectbox(key="exp_cv").set_value(2).run()
    app.switch_page("pages/runs.py").run()
    app.switch_page("pages/experiment.py").run()
    assert app.multiselect(key="exp_units").value == [8, 16], "kept after a page switch"
    assert app.selectbox(key="exp_cv").value == 2
    app.selectbox(key="dataset_choice").set_value(other).run()
    assert app.multiselect(key="exp_units").value == [32], "the other dataset has its own"
    app.multiselect(key="exp_units").set_value([64]).run()
    app.selectbox(key="dataset_choice").set_value(chosen).run()
    assert app.multiselect(key="exp_units").value == [8, 16]
    assert not app.exception


def test_data_page_renames_a_dataset_and_keeps_a_note(toy_dataset):
    workspace, dataset_id = toy_dataset
    app = open_app()
    app.switch_page("pages/data.py").run()
    app.text_input(key=f"data_name_{dataset_id}").input("toy spam, 40 texts")
    app.text_area(key=f"data_note_{dataset_id}").input("made by <b>tests</b>")
    app.button(key=f"data_describe_save_{dataset_id}").click().run()
    assert not app.exception
    saved = workspace.store.get_dataset(dataset_id)
    assert (saved.name, saved.note) == ("toy spam, 40 texts", "made by <b>tests</b>")
    app.switch_page("pages/experiment.py").run()
    assert app.selectbox(key="dataset_choice").format_func(dataset_id).startswith("toy spam, 40")
    assert md("made by <b>tests</b>") in texts(app.caption)


def test_compare_never_mixes_data_sets(workspace):
    """Two data sets with a completed run each: Compare shows one data set's runs at a time."""
    from conftest import runs_on_two_data_sets

    from lstm_core.api import Engine

    engine = Engine(workspace.root)
    runs = runs_on_two_data_sets(engine)
    engine.describe_run(runs["spam.csv"].id, name="the spam one")

    app = open_app()
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    assert app.selectbox(key="cmp_dataset_choice").value == runs["mood.csv"].dataset.id
    assert set(app.dataframe[0].value["run"]) == {runs["mood.csv"].id}
    (offered,) = app.multiselect(key=f"cmp_runs_{runs['mood.csv'].dataset.id}").options
    assert "mood.csv" in offered and "spam.csv" not in offered
    app.selectbox(key="cmp_dataset_choice").set_value(runs["spam.csv"].dataset.id).run()
    assert not app.exception
    assert set(app.dataframe[0].value["run"]) == {"the spam one"}
    assert "mean CV macro-F1" in app.dataframe[0].value.columns


def test_a_bayesian_design_with_ranges_and_its_history_and_importances(toy_dataset):
    from conftest import TINY, tiny_spec

    from lstm_core.api import Dimension, Engine, Range
    from lstm_core.execution.training import train

    workspace, dataset_id = toy_dataset
    app = open_app()
    app.switch_page("pages/experiment.py").run()
    app.radio(key="exp_search").set_value("tpe").run()
    assert app.number_input(key="exp_range_learning_rate_low").value == 0.0001
    assert app.number_input(key="exp_range_learning_rate_high").value == 0.1
    assert app.checkbox(key="exp_range_learning_rate_log").value is True
    app.multiselect(key="exp_ranged").set_value(["learning_rate", "units"]).run()
    app.number_input(key="exp_range_units_high").set_value(16).run()
    app.number_input(key="exp_n_iter").set_value(6).run()
    app.selectbox(key="exp_prune").set_value("median").run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Candidates"] == "6", "the budget is the number of candidates"
    app.button(key="exp_launch").click().run()
    assert not app.exception
    (launched,) = workspace.store.list_runs()
    Engine(workspace.root).cancel(launched.id)
    spec = launched.spec
    assert (spec.search, spec.n_iter, spec.prune) == ("tpe", 6, "median")
    assert spec.ranges == {
        "learning_rate": Range(0.0001, 0.1, True),
        "units": Range(4, 16, True),
    }
    assert "units" not in spec.grid, "a ranged hyperparameter leaves the grid"

    run = train(
        tiny_spec(
            dataset_id,
            search="tpe",
            n_iter=4,
            cv=0,
            grid={},
            ranges={"learning_rate": [0.001, 0.1, True], "units": [2, 8]},
            params={**TINY, "epochs": 2},
        ),
        workspace,
    )
    assert Engine(workspace.root).result(run.id) is not None, run.error
    history = Engine(workspace.root).search_history(run.id)
    assert [t.number for t in history.trials] == [0, 1, 2, 3]
    assert all(t.value is not None for t in history.scored()) and history.scored()
    assert history.space["learning_rate"] == Dimension(low=0.001, high=0.1, log=True)
    assert history.space["units"] == Dimension(low=2, high=8, integer=True)
    app.session_state["run"] = run.id
    app.switch_page("pages/runs.py").run()
    assert not app.exception
    assert any("Optimization history" in m.value for m in app.markdown)
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    assert app.selectbox(key="cmp_bayes_run").value == run.id
    assert any("PED-ANOVA" in c for c in texts(app.caption)), texts(app.caption)
    assert set(app.multiselect(key=f"cmp_heat_{run.id}").value) == {"learning_rate", "units"}


def test_experiment_starts_from_a_saved_model_or_word_vectors(workspace):
    """Transfer in the dashboard: the saved model fixes its layers' shapes (not offered),
    the parameter table marks frozen layers, word vectors show their coverage first, and
    a finished child run tells its lineage on Runs and Compare."""
    import numpy as np
    from conftest import runs_on_two_data_sets

    from lstm_core.api import Engine, ExperimentSpec

    engine = Engine(workspace.root)
    runs = runs_on_two_data_sets(engine)
    parent, mood = runs["spam.csv"], runs["mood.csv"].dataset
    app = open_app()
    app.session_state["dataset"] = mood.id
    app.switch_page("pages/experiment.py").run()
    app.radio(key="exp_start").set_value("parent").run()
    assert not app.exception
    app.selectbox(key="exp_parent").set_value(parent.id).run()
    assert "exp_units" not in [w.key for w in app.multiselect], "units come from the saved model"
    assert "Text" not in [e.label for e in app.expander], "no empty box: the model's settings"
    assert not any("would cut texts" in w for w in texts(app.warning)), "its length is fixed"
    assert any("Reused from run" in c and "4 units" in c for c in texts(app.caption))
    table = app.dataframe[0].value
    assert list(table["weights"]) == ["frozen", "frozen", "trainable"]
    app.checkbox(key="exp_freeze_recurrent_1").uncheck().run()
    app.number_input(key="exp_fine_tune_epochs").set_value(1).run()
    assert list(app.dataframe[0].value["weights"]) == ["frozen", "trainable", "trainable"]
    app.button(key="exp_launch").click().run()
    assert not app.exception
    launched = next(r for r in workspace.store.list_runs() if r.spec.parent)
    engine.cancel(launched.id)
    assert (launched.spec.parent, launched.spec.freeze) == (parent.id, "embedding")
    assert launched.spec.fine_tune_epochs == 1
    assert launched.spec.params["units"] == parent.spec.fixed()["units"]

    rng = np.random.default_rng(0)
    words = ["lunch", "home", "later", "mum", "see", "you", "tonight", "thanks"]
    lines = [w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=4)) for w in words]
    vectors = engine.add_vectors("\n".join(lines).encode(), "ham-words.txt")
    app.switch_page("pages/experiment.py").run()
    app.radio(key="exp_start").set_value("file").run()
    assert app.selectbox(key="exp_vectors").value == vectors.id
    shown = {m.label: m.value for m in app.metric}
    assert shown["Vocabulary covered"] == "50%", "8 of the 16 toy words have a vector"
    assert "exp_embedding_dim" not in [w.key for w in app.multiselect]

    child = engine.train(
        ExperimentSpec(mood.id, params=parent.spec.params, cv=0, n_jobs=1, parent=parent.id)
    )
    app.session_state["run"] = child.id
    app.switch_page("pages/runs.py").run()
    assert not app.exception
    (told,) = [i.value for i in app.info if "Transfer learning" in i.value]
    assert md(parent.id) in told and "stayed frozen" in told
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    assert any(md(parent.id) in m.value and "←" in m.value for m in app.markdown)


def test_errors_page_threshold_and_why_this_label(workspace):
    """Errors: the held-out texts, and a threshold that moves the matrix; Predict: coloured
    tokens for a typed sentence, a what-if edit, and an LSTM's five traces."""
    import json

    from conftest import runs_on_two_data_sets

    from lstm_core.api import Engine

    engine = Engine(workspace.root)
    run = runs_on_two_data_sets(engine)["spam.csv"]
    app = open_app()
    app.session_state["run"] = run.id
    app.switch_page("pages/errors.py").run()
    assert not app.exception
    assert any("held-out texts" in c for c in texts(app.caption))

    def matrix():
        charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
        (heatmap,) = [c["data"][0] for c in charts if "threshold" in c["layout"]["title"]["text"]]
        return heatmap["z"]

    app.radio(key="err_positive").set_value("spam").run()
    app.slider(key="err_threshold").set_value(0.01).run()
    low = matrix()
    app.slider(key="err_threshold").set_value(0.99).run()
    high = matrix()
    assert low != high
    assert low == engine.threshold_metrics(run.id, "spam", 0.01).confusion_matrix
    assert high == engine.threshold_metrics(run.id, "spam", 0.99).confusion_matrix
    assert sum(map(sum, low)) == sum(map(sum, high)) == len(engine.held_out(run.id))

    app.switch_page("pages/predict.py").run()
    app.text_input(key="pred_sentence").input("win cash prize now").run()
    assert not app.exception
    (coloured,) = [h for h in app.get("html") if "coloured-tokens" in h.proto.body]
    assert all(word in coloured.proto.body for word in ("win", "cash", "prize", "now"))
    assert any("integrated gradients" in c for c in texts(app.caption))
    app.text_input(key=f"pred_whatif_{run.id}").input("see you at lunch").run()
    assert "change" in app.dataframe[0].value.columns
    app.text_input(key="pred_sentence").input("claim your free cash").run()
    assert app.text_input(key=f"pred_whatif_{run.id}").value == "claim your free cash", (
        "the what-if box edits the sentence typed now, not an older one"
    )
    app.text_input(key=f"pred_whatif_{run.id}").input("see you at lunch").run()
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
              for c in app.get("plotly_chart")]  # fmt: skip
    assert sum("gate" in t or "state" in t for t in titles) == 5


def test_coloured_tokens_escape_what_a_person_typed():
    from dashboard.insight_views import coloured_tokens
    from lstm_core.api import Explanation
    from lstm_core.domain.analysis import TokenAttribution

    tokens = [TokenAttribution("<img src=x onerror=alert(1)>", 0.4, 0.1),
              TokenAttribution('"quoted"', -0.2, 0.1)]  # fmt: skip
    drawn = coloured_tokens(Explanation("t", "spam", {"spam": 1.0}, tokens, "ig", 0.0))
    assert "<img" not in drawn and "&lt;img src=x onerror=alert(1)&gt;" in drawn
    assert '"quoted"' not in drawn and "&quot;quoted&quot;" in drawn


def test_experiment_sends_fits_to_the_scheduler_it_names(toy_dataset, monkeypatch):
    monkeypatch.setenv("LSTM_CORE_DASK_SCHEDULER", "tcp://scheduler.example:8786")
    app = open_app()
    app.switch_page("pages/experiment.py").run()
    field = app.text_input(key="settings_cluster")
    assert field.value == "tcp://scheduler.example:8786", "the environment's scheduler"
    assert {m.label: m.value for m in app.metric}["Parallel fits"] == "per worker"
    field.set_value("scheduler.example").run()
    assert any("is not a Dask scheduler address" in e.value for e in app.error)
    assert not app.exception
    app.text_input(key="settings_cluster").set_value("tcp://10.0.0.5:8786").run()
    app.switch_page("pages/runs.py").run()
    app.switch_page("pages/experiment.py").run()
    assert app.text_input(key="settings_cluster").value == "tcp://10.0.0.5:8786", "kept"
    app.text_input(key="settings_cluster").set_value("").run()
    assert not app.error
    assert {m.label: m.value for m in app.metric}["Parallel fits"] != "per worker"


def test_experiment_refuses_a_nan_from_a_loaded_design_with_its_sentence(toy_dataset):
    """A design that holds a NaN (an older run's, opened with Run again) is refused in one
    sentence, as in the CLI, instead of launching a run that fails later."""
    workspace, dataset_id = toy_dataset
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.session_state["_designs"] = {dataset_id: {"learning_rate": [float("nan"), 0.01]}}
    app.run().switch_page("pages/experiment.py").run()
    assert not app.exception
    (error,) = texts(app.error)
    assert error.startswith("'nan' is not a valid learning\\_rate; expected a number")
    assert not [b for b in app.button if b.key == "exp_launch"], "nothing to launch"


def test_pages_say_a_removed_model_and_a_stopped_writer_and_still_render(toy_dataset, request):
    """A run whose model was removed by hand is said on the Runs page; a process stopped
    while it holds the write lock is named in the sidebar, and every page still renders."""
    import shutil

    from test_store_faults import completed

    workspace, dataset_id = toy_dataset
    run_id = completed(workspace, dataset_id)
    shutil.rmtree(workspace.bundle_dir(run_id))
    app = open_app()
    app.switch_page("pages/runs.py").run()
    assert not app.exception
    assert any("saved model" in w and "is gone" in w for w in texts(app.warning)), texts(
        app.warning
    )

    holder = request.getfixturevalue("stopped_writer")
    app = open_app()
    assert any(f"process {holder.pid}" in w for w in texts(app.sidebar.warning))
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page


def test_compare_shows_a_grid_run_beside_a_tpe_run_over_a_learning_rate_range(toy_dataset):
    """A grid leaves the optimizer's own learning rate (None) where TPE draws one: under
    pandas 3 `astype(str)` kept it NaN beside strings, and sorting the levels crashed."""
    from conftest import tiny_spec

    from lstm_core.api import parse_range
    from lstm_core.execution.training import train

    workspace, dataset_id = toy_dataset
    grid = train(tiny_spec(dataset_id, grid={"units": [4, 8]}, cv=0), workspace)
    tpe = tiny_spec(
        dataset_id,
        grid={},
        cv=0,
        search="tpe",
        n_iter=2,
        ranges=dict([parse_range("learning_rate=0.001:0.1:log")]),
    )
    tpe = train(tpe.validated(), workspace)
    assert {grid.status, tpe.status} == {"completed"}, (grid.error, tpe.error)
    app = open_app()
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    (table,) = app.dataframe[:1]
    rates = table.value["learning_rate"].tolist()
    assert rates.count("default") == 2 and len(rates) == 4, rates
    assert not any(v in ("nan", "None", "") for v in rates)


def test_batch_predictions_keep_the_uploaded_files_other_columns(toy_dataset):
    """The predictions CSV once held only text and label: a user's ids and dates were gone."""
    from test_store_faults import completed

    workspace, dataset_id = toy_dataset
    completed(workspace, dataset_id)
    upload = b"id,sent,message\n7,2024-01-02,win cash now\n8,2024-01-03,\n9,2024-01-04,see you\n"
    app = open_app()
    app.switch_page("pages/predict.py").run()
    app.file_uploader(key="pred_upload").upload("batch.csv", upload, "text/csv").run()
    app.selectbox(key="pred_column").set_value("message").run()
    assert not app.exception
    table = app.dataframe[-1].value
    assert list(table.columns[:3]) == ["id", "sent", "message"]
    assert table["id"].tolist() == ["7", "8", "9"] and "predicted label" in table
    labels = table["predicted label"].tolist()
    assert labels[0] in ("ham", "spam") and labels[2] in ("ham", "spam")
    assert pd.isna(labels[1]), "an empty text gets no label"
