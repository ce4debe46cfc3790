"""Repeated texts stay on one side of every split, so a held-out score is not memory.

Public tweet files repeat their texts (retweets): on the three-class political tweet file,
743 of the 910 misclassified held-out texts were also training texts. Here a toy file
repeats most of its texts, in another case, with other spacing or another short link, and
every split of a run (the test split, the folds, the cv = 0 validation split) must keep
each repeat on one side, in proportion per class, while a file without repeats, and a run
stored before grouping existed, split exactly as before.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import runpy
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from conftest import TINY
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, train_test_split

from lstm_core.api import Engine, ExperimentSpec, RepeatedTexts, RunStatus
from lstm_core.cli.design import spec_from_args
from lstm_core.cli.parser import build_parser
from lstm_core.data.repeats import normalised, repeat_groups, repeat_summary
from lstm_core.execution.run_loop import VALIDATION_SHARE, fold_rows, holdout, holdout_split
from lstm_core.store.workspace import DATABASE_FILE

WORDS = {
    "left": ["union", "wages", "healthcare", "climate", "workers", "tax", "rich", "fair"],
    "right": ["border", "freedom", "guns", "taxes", "family", "faith", "order", "jobs"],
    "centre": ["compromise", "budget", "reform", "local", "roads", "schools", "vote", "deal"],
}


def repeating_texts(per_class: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of short texts, each written 1 to 5 times as retweets are: as it is,
    in capitals, with other spacing, with a short link; rows shuffled."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in WORDS.items():
        for number in range(per_class):
            text = f"{' '.join(rng.choice(words, size=5))} {number}"
            variants = [
                text,
                text.upper(),
                f"  {text.replace(' ', '   ')} ",
                f"{text} https://t.co/{rng.integers(10**6)}",
            ]
            for copy in range(int(rng.integers(1, 6))):
                texts.append(variants[copy % 4])
                labels.append(label)
    order = rng.permutation(len(texts))
    return np.array(texts, dtype=object)[order], np.array(labels, dtype=object)[order]


def distinct_texts(n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    texts = [f"message number {i} about {WORDS['left'][i % 8]}" for i in range(n)]
    labels = [("left", "right", "centre")[i % 3] for i in range(n)]
    return np.array(texts, dtype=object), np.array(labels, dtype=object)


def seen(texts: np.ndarray, rows: np.ndarray) -> set[str]:
    return {normalised(t) for t in texts[rows]}


def shares(labels: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    counts = Counter(labels[rows].tolist())
    return {label: counts[label] / len(rows) for label in sorted(set(labels))}


def test_a_retweet_is_the_same_text_whatever_its_case_spacing_or_link():
    same = [
        "RT @ann: Vote on  Tuesday! https://t.co/AbC123",
        "rt @ann: vote on tuesday! http://t.co/xyz",
        "  RT @ANN:\tVote on Tuesday!  ",
        "ＲＴ @ann: vote on tuesday! www.example.org/x",  # full-width letters (NFKC)
    ]
    assert len({normalised(t) for t in same}) == 1
    groups = repeat_groups(
        [*same, "RT @ann: vote on Wednesday!", "https://t.co/a", "https://t.co/a"]
    )
    assert groups.tolist() == [0, 0, 0, 0, 1, 2, 3], "a link alone is a text of its own"


def test_the_data_page_summary_counts_repeats_and_says_what_the_split_does():
    summary = repeat_summary(["a b", "A  b", "c", "a b https://t.co/1", "c", "d"])
    assert (summary.rows, summary.repeats, summary.repeated_texts, summary.largest) == (
        6,
        3,
        2,
        3,
    )
    said = summary.describe()
    assert said.startswith("3 texts repeat an earlier one")
    assert "2 distinct texts occur more than once, the commonest 3 times" in said
    assert "no held-out text was seen in training" in said
    assert repeat_summary(["a", "b"]).describe() == ""


def test_grouping_fifteen_thousand_texts_takes_well_under_a_second():
    texts, _ = repeating_texts(per_class=2000)
    assert len(texts) > 15_000
    started = time.perf_counter()
    repeat_summary(texts)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("test_size", [0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_no_held_out_text_is_a_training_text_and_the_shares_hold(test_size, seed):
    texts, labels = repeating_texts(seed=seed)
    assert len(set(map(normalised, texts))) < 0.5 * len(texts), "the toy file repeats itself"
    spec = ExperimentSpec("d", test_size=test_size, seed=seed)
    train, test = holdout_split(spec, labels, texts)
    assert sorted([*train, *test]) == list(range(len(texts)))
    assert not seen(texts, train) & seen(texts, test)
    assert len(test) / len(texts) == pytest.approx(test_size, abs=0.015)
    for label, count in Counter(labels.tolist()).items():
        in_test = np.count_nonzero(labels[test] == label)
        assert in_test / count == pytest.approx(test_size, abs=0.03), label


@pytest.mark.parametrize("cv", [0, 2, 3, 5])
def test_no_fold_scores_a_text_it_was_fitted_on(cv):
    texts, labels = repeating_texts(per_class=40)
    spec = ExperimentSpec("d", cv=cv, seed=3)
    train, _ = holdout_split(spec, labels, texts)
    folds = fold_rows(spec, labels, train, texts)
    assert len(folds) == max(cv, 1)
    overall = shares(labels, train)
    for fit, scored in folds:
        assert sorted([*fit, *scored]) == sorted(train)
        assert not seen(texts, fit) & seen(texts, scored)
        for label, share in shares(labels, scored).items():
            assert share == pytest.approx(overall[label], abs=0.05), (cv, label)
    if cv:
        assert sorted(np.concatenate([scored for _, scored in folds])) == sorted(train)
    else:
        assert len(folds[0][1]) / len(train) == pytest.approx(VALIDATION_SHARE, abs=0.03)


def test_the_same_seed_gives_the_same_splits():
    texts, labels = repeating_texts()
    spec = ExperimentSpec("d", cv=3, seed=9)

    def splits(seed_spec):
        train, test = holdout_split(seed_spec, labels, texts)
        folds = fold_rows(seed_spec, labels, train, texts)
        return [train, test, *(rows for fold in folds for rows in fold)]

    first, again = splits(spec), splits(spec)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = splits(ExperimentSpec("d", cv=3, seed=10))
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("cv", [0, 3])
def test_a_file_without_repeats_splits_exactly_as_before(cv):
    texts, labels = distinct_texts()
    spec = ExperimentSpec("d", cv=cv, test_size=0.25, seed=5)
    train, test = holdout_split(spec, labels, texts)
    before = train_test_split(
        np.arange(len(labels)), test_size=0.25, stratify=labels, random_state=5
    )
    assert np.array_equal(train, before[0]) and np.array_equal(test, before[1])
    splitter = (
        StratifiedShuffleSplit(n_splits=1, test_size=VALIDATION_SHARE, random_state=5)
        if cv == 0
        else StratifiedKFold(n_splits=cv, shuffle=True, random_state=5)
    )
    expected = splitter.split(np.zeros(len(train)), labels[train])
    for (fit, scored), (fit_before, scored_before) in zip(
        fold_rows(spec, labels, train, texts), expected, strict=True
    ):
        assert np.array_equal(fit, train[fit_before])
        assert np.array_equal(scored, train[scored_before])


def test_repeats_kept_apart_on_request_split_as_before():
    texts, labels = repeating_texts()
    spec = ExperimentSpec("d", group_repeats=False, seed=2)
    train, test = holdout_split(spec, labels, texts)
    before = train_test_split(
        np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=2
    )
    assert np.array_equal(test, before[1])
    assert seen(texts, train) & seen(texts, test), "the toy file's repeats fall on both sides"


def test_a_class_of_one_repeated_text_falls_back_to_the_ungrouped_split_and_says_so(caplog):
    texts, labels = repeating_texts()
    slogan = np.array([f"MAKE IT SO https://t.co/{i}" for i in range(12)], dtype=object)
    texts = np.concatenate([texts, slogan])
    labels = np.concatenate([labels, np.array(["slogan"] * 12, dtype=object)])
    spec = ExperimentSpec("d", seed=4)
    with caplog.at_level(logging.WARNING, logger="lstm_core"):
        train, test = holdout_split(spec, labels, texts)
    before = train_test_split(
        np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=4
    )
    assert np.array_equal(test, before[1])
    assert "too few distinct texts" in caplog.text and "test split" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lstm_core"):
        folds = fold_rows(spec, labels, train, texts)
    assert len(folds) == 3 and "folds" in caplog.text


def test_new_designs_keep_repeats_together_and_stored_specs_without_the_setting_do_not():
    assert ExperimentSpec("d").group_repeats is True
    assert ExperimentSpec.from_dict(ExperimentSpec("d").to_dict()).group_repeats is True
    stored = ExperimentSpec("d", cv=2).to_dict()
    del stored["group_repeats"]
    assert ExperimentSpec.from_dict(stored).group_repeats is False
    parse = build_parser().parse_args
    train = ["train", "tweets.csv", "--text", "text", "--label", "label"]
    assert spec_from_args(parse(train)).group_repeats is True
    assert spec_from_args(parse([*train, "--no-group-repeats"])).group_repeats is False


def tweets_file(workspace) -> tuple[Engine, str, bytes]:
    """The repeating toy texts saved as a CSV file and frozen as a dataset."""
    texts, labels = repeating_texts()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [["text", "label"], *zip(texts, labels, strict=True)]
    )
    data = buffer.getvalue().encode()
    engine = Engine(workspace.root)
    frame, report = engine.read_file(data, "tweets.csv")
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "tweets.csv", reading=report.reading)
    return engine, dataset.id, data


def test_a_trained_run_holds_out_no_training_text_and_its_script_splits_alike(workspace, tmp_path):
    from dashboard.run_results import repeats_note

    engine, dataset_id, data = tweets_file(workspace)
    path = tmp_path / "tweets.csv"
    path.write_bytes(data)
    runs = {
        grouped: engine.train(
            ExperimentSpec(dataset_id, params=TINY, cv=0, n_jobs=1, group_repeats=grouped)
        )
        for grouped in (True, False)
    }
    flagged = {}
    for grouped, run in runs.items():
        assert run.status == RunStatus.COMPLETED, run.error
        held_out = engine.held_out(run.id)
        flagged[grouped] = sum(text.in_training for text in held_out)
        script = engine.export_code(run.id, tmp_path / f"train_{run.id}.py")
        names = runpy.run_path(str(script))
        _, test = names["split"](names["read"](str(path)))
        assert sorted(test.index) == sorted(text.row for text in held_out), grouped
        linted = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F",
             str(script)], capture_output=True, text=True,
        )  # fmt: skip
        assert linted.returncode == 0, linted.stdout
    assert flagged[True] == 0, "a held-out text was also a training text"
    assert flagged[False] > 0, "the toy file's repeats land on both sides without grouping"
    for grouped, run in runs.items():
        assert engine.result(run.id).repeats == (
            RepeatedTexts.TOGETHER if grouped else RepeatedTexts.APART
        )
    assert "kept on one side of every split" in repeats_note(
        runs[True], engine.result(runs[True].id)
    )
    assert "not kept together" in repeats_note(runs[False], engine.result(runs[False].id))


def test_a_run_stored_before_grouping_existed_resumes_with_its_old_split(workspace):
    engine, dataset_id, _ = tweets_file(workspace)
    run_id = workspace.store.create_run(ExperimentSpec(dataset_id, params=TINY, cv=0), 2)
    with sqlite3.connect(workspace.root / DATABASE_FILE) as db:
        (spec,) = db.execute("SELECT spec FROM runs WHERE id = ?", (run_id,)).fetchone()
        older = {k: v for k, v in json.loads(spec).items() if k != "group_repeats"}
        db.execute("UPDATE runs SET spec = ? WHERE id = ?", (json.dumps(older), run_id))
    stored = workspace.store.get_run(run_id).spec
    assert stored.group_repeats is False
    texts, labels = repeating_texts()
    _, test = holdout_split(stored, labels, texts)
    before = train_test_split(
        np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=42
    )
    assert np.array_equal(test, before[1])


def test_the_data_page_says_that_the_samples_repeats_are_kept_together(workspace):
    from test_app import open_app

    app = open_app()
    app.button(key="home_sample").click().run()
    assert not app.exception
    said = " ".join(caption.value for caption in app.caption)
    assert "texts repeat an earlier one" in said and "kept together when splitting" in said


def test_the_experiment_page_keeps_repeats_together_unless_unticked(toy_dataset):
    from test_app import open_app

    workspace, _ = toy_dataset
    app = open_app()
    app.switch_page("pages/experiment.py").run()
    box = app.checkbox(key="exp_group_repeats")
    assert box.label == "Keep repeated texts on one side of every split" and box.value is True
    box.uncheck().run()
    app.button(key="exp_launch").click().run()
    assert not app.exception
    (launched,) = workspace.store.list_runs()
    Engine(workspace.root).cancel(launched.id)
    assert launched.spec.group_repeats is False


def test_a_run_records_how_its_repeats_fell_even_when_it_could_not_keep_them_together():
    """The run summary reads this record: a run that fell back to the ungrouped split
    must not claim that no held-out text was trained on."""
    texts, labels = repeating_texts()
    spec = ExperimentSpec("d", test_size=0.2, seed=3)
    assert holdout(spec, labels, texts).repeats == RepeatedTexts.TOGETHER
    assert holdout(replace(spec, group_repeats=False), labels, texts).repeats == (
        RepeatedTexts.APART
    )
    distinct = np.array([f"text number {i}" for i in range(len(labels))], dtype=object)
    assert holdout(spec, labels, distinct).repeats == RepeatedTexts.NONE
    # One class made of a single text said over and over cannot sit on both sides.
    lone = texts.copy()
    first = labels[0]
    lone[labels == first] = "the same words every time"
    fell_back = holdout(spec, labels, lone)
    assert fell_back.repeats == RepeatedTexts.APART
    assert set(labels[fell_back.test]) == set(labels)
