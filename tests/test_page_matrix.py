"""Every page with every kind of run: one workspace holding each search, each starting
point, each state and hostile labels, built once; every page rendered with every run.

Runs cover grid, random, halving, TPE with pruning, GP, word vectors, a Dask cluster,
transfer (frozen, fine-tuned, parent deleted), two and three classes, hostile labels, and
every state (running, queued, cancelled, failed, interrupted, resumed).
A page fails the matrix on an exception, on "None", "nan" or a lone "?" where a value
belongs, and when two figures of one run disagree (fits done, candidates, the length texts
are cut at). Each run is tiny (one epoch, a few dozen texts), so the whole matrix is about
what the pages do with what the engine stores, not about learning.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, TINY, toy_texts
from streamlit.testing.v1 import AppTest

from lstm_core.api import Engine, ExperimentSpec, RunStatus, parse_range
from lstm_core.execution.training import submit_run
from lstm_core.jobs import queue
from lstm_core.store.workspace import HOME_VARIABLE, Workspace

pytestmark = pytest.mark.slow

HOSTILE_LABELS = ["<b>bold</b>", "\x1b[31mred", "😀 smile", "long " + "x" * 195]
# A value that never came: Python's None, a float NaN, or "?" standing alone
MISSING = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|(?:^|[\s(/])\?(?:$|[\s/·,)])")
PAGES = ["pages/runs.py", "pages/errors.py", "pages/predict.py", "pages/compare.py"]


def frame_of(labels_per_class: list[str], seed: int = 0) -> pd.DataFrame:
    """Toy texts, 30 per class, with the classes renamed (two or more)."""
    texts, labels = toy_texts(seed=seed)
    if len(labels_per_class) == 2:
        named = np.where(labels == "spam", *labels_per_class)
        return pd.DataFrame({"text": texts, "label": named}, dtype="str")
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(8 * len(labels_per_class))]
    rows = [
        (" ".join(rng.choice(words[8 * c : 8 * c + 8], size=5)), label)
        for c, label in enumerate(labels_per_class)
        for _ in range(24)
    ]
    return pd.DataFrame(rows, columns=["text", "label"], dtype="str")


def spec(dataset_id: str, **changes) -> ExperimentSpec:
    settings = {"params": dict(TINY), "cv": 0, "test_size": 0.25, "n_jobs": 1, **changes}
    return ExperimentSpec(dataset_id, **settings)


def trained(engine: Engine, design: ExperimentSpec) -> str:
    run = engine.train(design.validated())
    assert run.status == RunStatus.COMPLETED, run.error
    return run.id


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """(workspace, {kind: run_id}): every kind of run the workbench makes, in one place."""
    root = tmp_path_factory.mktemp("matrix") / "ws"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(HOME_VARIABLE, str(root))
        engine, workspace = Engine(root), Workspace(root)
        two = engine.freeze_dataset(frame_of(["spam", "ham"]), "text", "label", "two.csv")[0]
        three = engine.freeze_dataset(
            frame_of(["red", "green", "blue"], seed=1), "text", "label", "three.csv"
        )[0]
        hostile = engine.freeze_dataset(
            frame_of(HOSTILE_LABELS, seed=2), "text", "label", "<i>hostile</i>.csv"
        )[0]
        tpe = spec(two.id, search="tpe", n_iter=3, prune="median", cv=2)
        tpe = replace(
            tpe,
            params={**tpe.params, "epochs": 3},  # pruning needs epochs to stop between
            ranges=dict([parse_range("learning_rate=0.001:0.1:log")]),
        )
        runs = {
            "grid": trained(engine, spec(two.id, grid={"arch": ["lstm", "gru"]}, cv=2)),
            "random": trained(
                engine, spec(two.id, search="random", n_iter=2, grid={"units": [4, 6, 8]})
            ),
            "halving": trained(
                engine, spec(two.id, search="halving", grid={"units": [4, 6, 8]}, cv=2)
            ),
            "tpe": trained(engine, tpe),
            "gp": trained(engine, spec(two.id, search="gp", n_iter=2, grid={"units": [4, 8]})),
            "vectors": trained(engine, spec(two.id, vectors="self")),
            "three classes": trained(engine, spec(three.id)),
            "hostile labels": trained(engine, spec(hostile.id, grid={"units": [4, 6]})),
        }
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as cluster:  # the Runs page shows a cluster run's workers after they are gone
            runs["cluster"] = trained(
                engine, spec(two.id, grid={"units": [4, 6]}, cluster=cluster.scheduler_address)
            )
        parent = runs["grid"]
        runs["transfer, frozen"] = trained(engine, spec(three.id, parent=parent))
        runs["transfer, fine-tuned"] = trained(
            engine, spec(three.id, parent=parent, freeze="embedding", fine_tune_epochs=1)
        )
        gone = trained(engine, spec(three.id, params={**TINY, "units": 6}))
        runs["parent deleted"] = trained(
            engine, spec(two.id, params={**TINY, "units": 6}, parent=gone)
        )
        queue.delete(workspace, gone)

        resumed = submit_run(workspace, spec(two.id), foreground=True)
        workspace.store.interrupt_run(resumed, "stopped by the test")
        workspace.store.requeue_run(resumed)
        runs["resumed"] = engine.execute(resumed).id
        assert engine.run(resumed).status == RunStatus.COMPLETED

        runs["running"] = submit_run(workspace, spec(two.id), foreground=True)  # this process
        runs["queued"] = submit_run(workspace, spec(three.id))  # behind it (one at a time)
        for kind, end in (
            ("cancelled", workspace.store.cancel_run),
            ("failed", lambda run_id: workspace.store.fail_run(run_id, "a test failed it")),
            ("interrupted", lambda run_id: workspace.store.interrupt_run(run_id, "test")),
        ):
            runs[kind] = submit_run(workspace, spec(two.id))
            end(runs[kind])
        yield workspace, runs
        for kind in ("running", "queued"):
            workspace.store.cancel_run(runs[kind])


def rendered(page: str, run_id: str | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if run_id is not None:
        app.session_state["run"] = run_id
    app.run()
    app.switch_page(page).run()
    assert not app.exception, (page, run_id, [e.value for e in app.exception])
    return app


def shown_texts(app: AppTest) -> list[str]:
    """Every sentence and number a person reads on the page (tables aside)."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning")
    found = [e.value for kind in kinds for e in getattr(app, kind)]
    found += [e.value for e in app.error] + [e.value for e in app.success]
    found += [f"{m.label}: {m.value}" for m in app.metric]
    found += [bar.proto.text for bar in app.get("progress")]
    return [str(text) for text in found]


def assert_no_missing_values(app: AppTest, where: str) -> None:
    for text in shown_texts(app):
        assert not MISSING.search(text), f"{where}: {text!r}"
    for table in app.dataframe:
        frame = table.value
        for column in frame.columns:
            cells = frame[column].dropna().astype(str)
            bad = cells[cells.isin(["None", "nan", "NaN", "?"])]
            assert bad.empty, f"{where}: column {column!r} shows {bad.tolist()}"


@pytest.mark.parametrize("page", ["pages/home.py", "pages/data.py", "pages/experiment.py"])
def test_pages_without_a_run_render_beside_every_kind(matrix, page):
    app = rendered(page)
    assert_no_missing_values(app, page)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_every_run(matrix, page):
    workspace, runs = matrix
    for kind, run_id in runs.items():
        app = rendered(page, run_id)
        assert_no_missing_values(app, f"{page} with the {kind} run")


def test_the_runs_page_agrees_with_the_engine_on_each_runs_figures(matrix):
    """Fits done, and the length texts are cut at, said the same everywhere."""
    workspace, runs = matrix
    engine = Engine(workspace.root)
    for kind, run_id in runs.items():
        app = rendered("pages/runs.py", run_id)
        run, progress = engine.run(run_id), engine.progress(run_id)
        table = app.dataframe[0].value
        fits = table.loc[table["run"] == run_id, "fits"].tolist()
        assert fits == [f"{progress.trials_done}/{progress.trials_total}"], (kind, fits)
        said = " ".join(shown_texts(app))
        if run.status.finished:
            assert progress.fits_summary() in said, (kind, progress.fits_summary())
        if run.status == RunStatus.COMPLETED:
            length = engine.load_model(run_id).sequence_length
            assert f"Texts cut at {length} words" in said, kind
            assert engine.result(run_id).sequence_length == length, kind


def test_compare_renders_every_pair_of_runs_of_a_data_set_and_counts_their_candidates(matrix):
    workspace, runs = matrix
    engine = Engine(workspace.root)
    completed = [r for r in engine.runs() if r.status == RunStatus.COMPLETED]
    by_dataset: dict[str, list] = {}
    for run in completed:
        by_dataset.setdefault(run.dataset.id, []).append(run)
    for dataset_id, members in by_dataset.items():
        for first, second in itertools.combinations(members, 2):
            app = rendered("pages/compare.py", first.id)
            key = f"cmp_runs_{dataset_id}"
            app.multiselect(key=key).set_value([first.id, second.id]).run()
            assert not app.exception, (first.id, second.id, [e.value for e in app.exception])
            assert_no_missing_values(app, f"Compare {first.id} with {second.id}")
            table = app.dataframe[0].value
            for run in (first, second):
                shown = int((table["run"] == run.title).sum())
                assert shown == len(engine.candidates(run.id)), (run.id, shown)
