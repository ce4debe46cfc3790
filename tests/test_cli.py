"""The CLI contract: JSON last lines, one-line errors with exit status 2, and the spam.csv promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_SENTIMENT, SAMPLE_SMS, cli_here, toy_texts

from lstm_core.api import Engine
from lstm_core.cli.design import spec_from_args
from lstm_core.cli.main import main
from lstm_core.cli.parser import build_parser

PRIZE_TEXT = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim your reward!"
ORDINARY_TEXT = "Are we still meeting for lunch tomorrow? I'll be at the station around noon."


def last_json(text: str):
    return json.loads(text.strip().splitlines()[-1])


def run_cli(*args: str, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "LSTM_CORE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "lstm_core", *args], capture_output=True, text=True, env=env
    )


def test_inspect_json_reports_the_sample(capsys):
    assert main(["inspect", str(SAMPLE_SMS), "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["encoding"] == "cp1252"
    assert report["delimiter"] == "comma"
    assert report["rows"] == 1500
    assert {"name": "message", "kind": "text"}.items() <= report["columns"][1].items()
    assert (report["suggested_text"], report["suggested_label"]) == ("message", "label")
    assert isinstance(report["warnings"], list)
    assert report["undecodable_bytes"] == 0


def test_inspect_counts_the_bytes_that_could_not_be_decoded(tmp_path, capsys):
    """UTF-8 with a few broken bytes stays UTF-8 (accents intact) and says how many broke."""
    rows = ["text,label"] + [f"caf\u00e9 n\u00b0{i} \u2026 great,pos" for i in range(20)]
    data = "\n".join(rows).encode() + b"\nbroken \xff\xfe bytes,neg\ncut \xe2\x80,neg\n"
    (tmp_path / "broken.csv").write_bytes(data)
    assert main(["inspect", str(tmp_path / "broken.csv"), "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert (report["encoding"], report["undecodable_bytes"]) == ("utf-8", 4)
    assert any("4 bytes could not be decoded as utf-8, in 2 rows" in w for w in report["warnings"])


def test_validate_accepts_the_sample_and_warns_about_a_column_of_ids(tmp_path, capsys):
    assert (
        main(["validate", str(SAMPLE_SMS), "--text", "message", "--label", "label", "--json"]) == 0
    )
    assert last_json(capsys.readouterr().out) == {
        "ok": True,
        "rows": 1500,
        "problems": [],
        "warnings": [  # the intake's, as inspect says it
            "124 texts in 'message' repeat an earlier one (1,376 distinct); runs keep each "
            "text's repeats on one side of every split."
        ],
        "markup": {
            "texts": 1500,
            "with_markup": 0,
            "example": "",
            "with_tags": 0,
            "share": 0.0,
        },
    }
    rows = ["id,text,label"] + [f"{1000 + i},message number {i},{'ab'[i % 2]}" for i in range(40)]
    (tmp_path / "ids.csv").write_text("\n".join(rows))
    assert main(["validate", str(tmp_path / "ids.csv"), "--text", "id", "--label", "label"]) == 0
    out = capsys.readouterr().out
    assert "note: Column 'id' holds numbers or ids rather than words" in out
    assert "can be trained on" in out


def test_validate_lists_every_problem_and_exits_1(capsys):
    code = main(["validate", str(SAMPLE_SMS), "--text", "message", "--label", "message", "--json"])
    report = last_json(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    assert report["problems"] == [
        "The text and the label are both column 'message'; choose two different columns."
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["inspect", "no/such/file.csv"],
            "lstm-core: There is no file at 'no/such/file.csv'; check the path.",
        ),
        (
            ["train", str(SAMPLE_SMS), "--text", "body", "--label", "label"],
            "lstm-core: There is no column named 'body'",
        ),
        (
            [
                "train",
                str(SAMPLE_SMS),
                "--text",
                "message",
                "--label",
                "label",
                "--grid",
                "units=many",
            ],
            "lstm-core: 'many' is not a valid units",
        ),
        (
            [
                "train",
                str(SAMPLE_SMS),
                "--text",
                "message",
                "--label",
                "label",
                "--arch",
                "transformer",
            ],
            "lstm-core: 'transformer' is not a valid arch",
        ),
        (
            ["train", str(SAMPLE_SMS), "--text", "message"],
            "lstm-core: the following arguments are required: --label",
        ),
        (
            [
                "train",
                str(SAMPLE_SMS),
                "--text",
                "message",
                "--label",
                "label",
                "--search",
                "tpe",
                "--range",
                "units=8",
            ],
            "lstm-core: 'units=8' is not NAME=LOW:HIGH[:log]",
        ),  # fmt: skip
        (
            [
                "train",
                str(SAMPLE_SMS),
                "--text",
                "message",
                "--label",
                "label",
                "--range",
                "units=8:64",
            ],
            "lstm-core: --range works only with a Bayesian search; use --search tpe or gp",
        ),  # fmt: skip
        (
            ["train", str(SAMPLE_SMS), "--text", "message", "--label", "label"]
            + ["--cluster", "scheduler.example"],
            "lstm-core: 'scheduler.example' is not a Dask scheduler address",
        ),
        (["predict", "no-such-run", "hello"], "lstm-core: There is no run 'no-such-run'"),
        (["resume", "no-such-run"], "lstm-core: There is no run 'no-such-run'"),
        (["delete", "no-such-run", "--yes"], "lstm-core: There is no run 'no-such-run'"),
        (["delete-dataset", "nope", "--yes"], "lstm-core: There is no dataset 'nope'"),
        (["rename", "no-such-run", "spam GRU"], "lstm-core: There is no run 'no-such-run'"),
        (["note", "no-such-run", "a note"], "lstm-core: There is no run 'no-such-run'"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(main(args))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(message)


def test_train_sends_its_fits_to_the_scheduler_in_the_environment(monkeypatch):
    monkeypatch.setenv("LSTM_CORE_DASK_SCHEDULER", " tcp://scheduler.example:8786 ")
    train = ["train", str(SAMPLE_SMS), "--text", "message", "--label", "label"]
    assert spec_from_args(build_parser().parse_args(train)).cluster == (
        "tcp://scheduler.example:8786"
    )
    named = build_parser().parse_args([*train, "--cluster", "tcp://10.0.0.5:8786"])
    assert spec_from_args(named).cluster == "tcp://10.0.0.5:8786"


def test_train_predict_and_runs_in_real_processes(tmp_path):
    trained = run_cli(
        "train",
        str(SAMPLE_SENTIMENT),
        "--text",
        "review",
        "--label",
        "sentiment",
        "--arch",
        "gru",
        "--set",
        "units=8",
        "--set",
        "embedding_dim=8",
        "--epochs",
        "1",
        "--cv",
        "0",
        "--json",
        home=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    result = last_json(trained.stdout)
    assert result["status"] == "completed"
    assert set(result["test"]) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix"}
    assert set(result["test"]["per_class"]) == {"negative", "neutral", "positive"}
    assert set(result["baseline"]) >= {"accuracy", "macro_f1"}
    # always answering one class scores that class's share of the test texts
    n_test = sum(c["support"] for c in result["test"]["per_class"].values())
    shares = [c["support"] / n_test for c in result["test"]["per_class"].values()]
    floor = result["majority"]
    assert any(floor["accuracy"] == pytest.approx(share) for share in shares), (floor, shares)
    share = floor["accuracy"]  # that class's F1 is 2s/(1+s), the others' 0
    assert floor["macro_f1"] == pytest.approx(2 * share / (1 + share) / len(shares))
    assert result["cv"]["scoring"] == "f1_macro"
    assert result["cv"]["score"] == result["cv_best_score"]
    status = last_json(run_cli("status", result["run_id"], "--json", home=tmp_path).stdout)
    (fold_fit,) = [t for t in status["trials"] if t["fold"] is not None]
    assert 0 <= fold_fit["accuracy"] <= 1
    assert result["cv"]["accuracy"] == pytest.approx(fold_fit["accuracy"])
    assert (status["majority"], status["cv"]) == (floor, result["cv"])
    predicted = run_cli(
        "predict", result["run_id"], "I loved it", "It broke", "--json", home=tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr
    lines = [json.loads(line) for line in predicted.stdout.strip().splitlines()]
    assert [line["text"] for line in lines] == ["I loved it", "It broke"]
    assert all(sum(line["probabilities"].values()) == pytest.approx(1, abs=1e-4) for line in lines)
    listed = run_cli("runs", "--json", home=tmp_path)
    (run,) = last_json(listed.stdout)
    assert run["id"] == result["run_id"] and run["status"] == "completed"
    assert run["dataset"] == {
        "id": run["dataset"]["id"],
        "name": "sentiment.csv",
        "text_column": "review",
        "label_column": "sentiment",
        "rows": 360,
    }
    assert (run["name"], run["note"]) == (None, None)
    assert run_cli("rename", run["id"], "Sentiment,  first GRU ", home=tmp_path).returncode == 0
    assert run_cli("note", run["id"], "one epoch only", home=tmp_path).returncode == 0
    (named,) = last_json(run_cli("runs", "--json", home=tmp_path).stdout)
    assert (named["name"], named["note"]) == ("Sentiment, first GRU", "one epoch only")
    (dataset,) = last_json(run_cli("datasets", "--json", home=tmp_path).stdout)
    assert (dataset["id"], dataset["runs"], dataset["rows"]) == (run["dataset"]["id"], 1, 360)

    def refused(*args, message):
        done = run_cli(*args, home=tmp_path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"lstm-core: {message}"), done.stderr

    run_id, dataset_id = run["id"], dataset["id"]
    refused("rename", run_id, "x" * 81, message="A run name can have at most 80 characters")
    refused("resume", run_id, message=f"Run '{run_id}' has completed; only an interrupted")
    refused("delete", run_id, message=f"Deleting run '{run_id}' cannot be undone; add --yes")
    refused("delete-dataset", dataset_id, "--yes", message=f"Dataset '{dataset_id}' is used by 1")
    assert run_cli("delete", run_id, "--yes", home=tmp_path).returncode == 0
    assert last_json(run_cli("runs", "--json", home=tmp_path).stdout) == []
    assert run_cli("delete-dataset", dataset_id, "--yes", home=tmp_path).returncode == 0
    assert last_json(run_cli("datasets", "--json", home=tmp_path).stdout) == []
    refused("predict", run_id, "hello", message=f"There is no run '{run_id}'")


def test_train_from_a_saved_model_and_from_word_vectors(tmp_path, capsys, monkeypatch):
    """The transfer contract: `--from` gives `parent` and `parameters`, `--vectors` gives
    `vectors` coverage shares; a second data set with other classes reuses the first model."""
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    tiny = ["--set", "units=4", "--set", "embedding_dim=4", "--epochs", "1", "--cv", "0"]
    sms = ["train", str(SAMPLE_SMS), "--text", "message", "--label", "label", *tiny, "--json"]
    parent = last_json(cli_here(capsys, *sms).stdout)["run_id"]
    sentiment = ["train", str(SAMPLE_SENTIMENT), "--text", "review", "--label", "sentiment"]
    done = cli_here(
        capsys, *sentiment, "--from", parent, "--freeze", "embedding", "--fine-tune-epochs",
        "1", "--epochs", "1", "--cv", "0", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    child = last_json(done.stdout)
    assert (child["status"], child["parent"]) == ("completed", parent)
    assert child["parameters"]["frozen"] > 0 and child["parameters"]["trainable"] > 0
    assert set(child["test"]["per_class"]) == {"negative", "neutral", "positive"}
    free = last_json(
        cli_here(capsys, *sentiment, "--from", parent, "--freeze", "none", "--epochs", "1",
                 "--cv", "0", "--json").stdout
    )  # fmt: skip
    assert free["parameters"]["frozen"] == 0
    assert free["parameters"]["trainable"] == sum(child["parameters"].values())

    words = ["the", "great", "film", "was", "bad", "service", "not", "and"]
    rng = np.random.default_rng(0)
    lines = [w + " " + " ".join(f"{x:.5f}" for x in rng.normal(size=5)) for w in words]
    (tmp_path / "tiny.vec").write_text(f"{len(words)} 5\n" + "\n".join(lines) + "\n")
    done = cli_here(
        capsys, *sentiment, "--vectors", str(tmp_path / "tiny.vec"), "--set",
        "vectors_trainable=false", "--set", "units=4", "--epochs", "1", "--cv", "0", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    vectors = last_json(done.stdout)["vectors"]
    assert 0 < vectors["coverage_vocabulary"] < vectors["coverage_tokens"] < 1
    assert 0 < vectors["covered"] <= len(words)  # the words of the training texts
    refused = cli_here(capsys, *sentiment, "--vectors", str(tmp_path / "tiny.vec"), "--set",
                       "embedding_dim=8", "--json")  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.startswith("lstm-core: embedding_dim is 5 in the vectors in 'tiny.vec'")


def test_tpe_with_median_pruning_keeps_to_ranges_and_budget_and_records_pruned_fits(
    tmp_path, capsys, monkeypatch
):
    texts, labels = toy_texts(40)
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "toy.csv", index=False)
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    trained = cli_here(
        capsys, "train", str(tmp_path / "toy.csv"), "--text", "text", "--label", "label",
        "--search", "tpe", "--budget", "6", "--range", "learning_rate=0.000001:0.1:log",
        "--range", "units=2:8", "--prune", "median", "--set", "epochs=4",
        "--set", "embedding_dim=4", "--set", "max_tokens=100", "--cv", "2", "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    result = last_json(trained.stdout)
    assert result["status"] == "completed"
    best = result["best_params"]
    assert 1e-6 <= best["learning_rate"] <= 0.1 and best["units"] in range(2, 9)
    status = last_json(run_cli("status", result["run_id"], "--json", home=tmp_path / "ws").stdout)
    fits = [t for t in status["trials"] if t["fold"] is not None]
    assert len({t["candidate"] for t in fits}) <= 6
    pruned = [t for t in fits if t["status"] == "pruned"]
    # (seed 42 proposes a learning rate of 3e-6, which cannot learn in 4 epochs, 4th)
    assert pruned, "a candidate behind the median of the finished ones after 2 epochs stops"
    epochs = Engine(tmp_path / "ws").epochs(result["run_id"])
    for fit in pruned:
        kept = [e for e in epochs if e.trial_id == fit["id"]]
        assert 1 <= len(kept) < 4, "a pruned fit keeps the epochs it trained, and stopped"
        assert fit["score"] is None
    (refit,) = [t for t in status["trials"] if t["fold"] is None]
    assert refit["candidate"] not in {t["candidate"] for t in pruned}
    assert status["progress"] == 1.0 and status["trials_done"] == status["trials_total"]
    (listed,) = last_json(run_cli("runs", "--json", home=tmp_path / "ws").stdout)
    assert (listed["trials_done"], listed["trials_total"]) == (
        status["trials_done"],
        status["trials_total"],
    ), "the runs list counts a pruned candidate's folds as done, like status"


@pytest.mark.slow
def test_spam_csv_lstm_and_gru_grid_beats_090_and_labels_spam(spam_csv, tmp_path):
    trained = run_cli(
        "train",
        str(spam_csv),
        "--text",
        "v2",
        "--label",
        "v1",
        "--arch",
        "lstm",
        "--arch",
        "gru",
        "--grid",
        "units=16,32",
        "--epochs",
        "3",
        "--cv",
        "2",
        "--json",
        home=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    result = last_json(trained.stdout)
    assert result["status"] == "completed"
    assert result["test"]["macro_f1"] >= 0.90
    assert result["baseline"]["macro_f1"] >= 0.90
    assert result["best_params"]["arch"] in ("lstm", "gru") and result["best_params"]["units"] in (
        16,
        32,
    )
    predicted = run_cli(
        "predict", result["run_id"], PRIZE_TEXT, ORDINARY_TEXT, "--json", home=tmp_path
    )
    labels = [json.loads(line)["label"] for line in predicted.stdout.strip().splitlines()]
    assert labels == ["spam", "ham"]


TRAIN_SMS = ["train", str(SAMPLE_SMS), "--text", "message", "--label", "label"]


@pytest.mark.parametrize(
    "args, message",
    [
        (TRAIN_SMS + ["--set", "learning_rate=nan"], "'nan' is not a valid learning_rate"),
        (TRAIN_SMS + ["--set", "dropout_rate=NaN"], "'NaN' is not a valid dropout_rate"),
        (TRAIN_SMS + ["--set", "validation_split=nan"], "'nan' is not a valid validation_split"),
        (TRAIN_SMS + ["--grid", "learning_rate=nan,0.01"], "'nan' is not a valid learning_rate"),
        (
            TRAIN_SMS + ["--search", "grid", "--budget", "5"],
            "--n-iter / --budget applies only to random, tpe and gp search",
        ),
        (
            TRAIN_SMS + ["--search", "halving", "--n-iter", "5"],
            "--n-iter / --budget applies only to random, tpe and gp search",
        ),
        (
            TRAIN_SMS + ["--halving-resource", "epochs"],
            "--halving-resource applies only to halving search",
        ),
        # (these were already refused; kept here so every option that does not apply is)
        (TRAIN_SMS + ["--prune", "median"], "--prune works only with a Bayesian search"),
        (TRAIN_SMS + ["--time-budget", "60"], "--time-budget works only with a Bayesian search"),
        (TRAIN_SMS + ["--freeze", "all"], "--freeze needs a model to start from"),
        (TRAIN_SMS + ["--fine-tune-epochs", "2"], "Fine-tuning continues a model started from"),
        (TRAIN_SMS + ["--vectors-corpus", "x.txt"], "An extra text file trains word vectors only"),
        (["predict", "any-run", "fine", ""], "Text 2 is empty; give some words to label."),
        (["predict", "any-run", "  "], "Text 1 is empty; give some words to label."),
        (["explain", "any-run", ""], "The text is empty; give some words to explain."),
    ],
)
def test_nan_empty_texts_and_options_that_do_not_apply_are_refused(
    args, message, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(f"lstm-core: {message}")


def test_search_options_left_at_their_defaults_or_that_apply_are_accepted():
    parse = build_parser().parse_args
    assert spec_from_args(parse(TRAIN_SMS)).n_iter == 10
    assert spec_from_args(parse(TRAIN_SMS)).halving_resource == "samples"
    assert spec_from_args(parse([*TRAIN_SMS, "--search", "random", "--budget", "5"])).n_iter == 5
    halving = parse([*TRAIN_SMS, "--search", "halving", "--halving-resource", "epochs"])
    assert spec_from_args(halving).halving_resource == "epochs"


def test_more_parallel_fits_than_fits_start_no_more_processes_and_say_so(tmp_path, monkeypatch):
    """--n-jobs 8 used to start 8 fit processes (about 870 MB each) for a run of 2 fits."""
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path))
    monkeypatch.setattr("lstm_core.domain.spec.usable_cores", lambda: 16)
    spec = spec_from_args(build_parser().parse_args([*TRAIN_SMS, "--n-jobs", "8", "--cv", "2"]))
    assert spec.n_candidates() * spec.n_splits() == 2
    assert spec.effective_n_jobs() <= 2
    assert any(
        note.startswith("8 parallel fits were asked for, but") for note in Engine().advice(spec)
    )


def test_validate_says_which_rows_train_leaves_out_and_agrees_with_train(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("LSTM_CORE_HOME", str(tmp_path / "ws"))
    rows = ["text,label"] + [
        f"message number {i},{['ham', 'spam', 'NaN', ''][i % 4]}" for i in range(400)
    ]
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(rows) + "\n")
    args = ["validate", str(path), "--text", "text", "--label", "label"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "note: 100 rows with no label are left out, so 300 of 400 rows are used." in out
    assert "note: Label 'NaN' (100 rows) is kept as a class of its own" in out
    assert main([*args, "--json"]) == 0
    report = last_json(capsys.readouterr().out)
    assert (report["ok"], report["rows"], report["problems"]) == (True, 400, [])
    assert len(report["warnings"]) == 2
    engine = Engine()
    frame, _ = engine.read_path(path)
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "labels.csv")
    assert dataset.rows == 300
    assert dataset.class_counts == {"NaN": 100, "ham": 100, "spam": 100}


def test_every_control_that_moves_or_reorders_text_is_shown_as_an_escape():
    from lstm_core.cli.console import printable

    for control in ("\x1b", "\x07", "\x9b", "\u202e", "\u2067", "\u200e", "\u200f", "\u061c"):
        shown = printable(f"evil{control}live")
        assert control not in shown and shown.startswith("evil\\") and shown.endswith("live")
    assert printable("tab\tand ümlaut") == "tab\tand ümlaut", "printable text stays as it is"
