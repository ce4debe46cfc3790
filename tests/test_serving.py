"""`lstm-core serve`: a real uvicorn server in a subprocess on a free loopback port, asked
over real HTTP; its answers are `Engine.predict`'s and bad input gets a 4xx sentence."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest
from conftest import ROOT, TINY, toy_texts

from lstm_core.api import Engine, ExperimentSpec, ModelCard, RunStatus, UserError
from lstm_core.cli.main import main

SPAM_TEXT = "<b>WIN</b> a free cash prize, call now"  # the tags go: the run strips HTML
HAM_TEXT = "see you at home later, thanks mum"
START_S = 120


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Engine, str]:
    """A completed run on the toy texts that learned them (12 epochs), stripping HTML."""
    engine = Engine(tmp_path_factory.mktemp("ws"))
    texts, labels = toy_texts()
    frame = pd.DataFrame({"text": texts, "label": labels})
    dataset, _ = engine.freeze_dataset(frame, "text", "label", "spam.csv")
    params = {**TINY, "epochs": 12, "learning_rate": 0.05, "strip_html": True}
    run = engine.train(ExperimentSpec(dataset.id, params=params, cv=0, n_jobs=1))
    assert run.status == RunStatus.COMPLETED, run.error
    return engine, run.id


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    """`lstm-core serve RUN --port 0`: its base URL, once it says it is ready."""
    engine, run_id = trained
    log = tmp_path_factory.mktemp("serve") / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_core", "serve", run_id, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        cwd=ROOT,
        env={**os.environ, "LSTM_CORE_HOME": str(engine.root)},
    )
    ready, _, _ = select.select([process.stdout], [], [], START_S)
    line = process.stdout.readline() if ready else ""
    if "serving run" not in line:
        process.kill()
        pytest.fail(f"the server did not start: {line!r} {log.read_text()[-3000:]}")
    assert "only this machine can reach it" in line
    url = line.split(" at ", 1)[1].split()[0]
    assert url.startswith("http://127.0.0.1:")
    yield url
    process.send_signal(signal.SIGINT)  # Ctrl-C: it stops as every command does, quietly
    assert process.wait(timeout=30) == 130
    assert log.read_text().strip().splitlines()[-1] == "lstm-core: interrupted"
    assert "Traceback" not in log.read_text()


def test_the_engine_keeps_a_loaded_model_and_hands_out_only_its_card(trained, tmp_path):
    """The door never gives the Keras model away: a `ModelCard`, and answers from the model
    it keeps loaded (loaded again only when its folder is replaced)."""
    engine = Engine(trained[0].root)  # nothing loaded yet
    run_id = trained[1]
    card = engine.load_model(run_id)
    assert isinstance(card, ModelCard)
    assert (card.run_id, card.labels) == (run_id, ["ham", "spam"])
    assert card.sequence_length > 0 and card.vocabulary_size > 2
    kept = engine._model(run_id)
    assert [p.label for p in engine.predict(run_id, [SPAM_TEXT, HAM_TEXT])] == ["spam", "ham"]
    assert engine._model(run_id) is kept, "asked again, the kept model answers"
    assert engine.reads(run_id, SPAM_TEXT).split() == [
        "WIN",
        "a",
        "free",
        "cash",
        "prize,",
        "call",
        "now",
    ]

    folder = engine.workspace.bundle_dir(run_id)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    moved = folder.with_name("moved")
    folder.rename(moved)
    with pytest.raises(UserError):
        engine.predict(run_id, [HAM_TEXT])  # a model whose folder went is not answered from
    copy.rename(folder)
    assert engine._model(run_id) is not kept, "a replaced folder is loaded again"
    shutil.rmtree(moved)


def test_predict_answers_as_the_engine_does(trained, server):
    engine, run_id = trained
    expected = engine.predict(run_id, [SPAM_TEXT, HAM_TEXT])
    answer = httpx.post(f"{server}/predict", json={"texts": [SPAM_TEXT, HAM_TEXT]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == run_id
    assert [p["label"] for p in body["predictions"]] == ["spam", "ham"]
    for got, want in zip(body["predictions"], expected, strict=True):
        assert got["label"] == want.label
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-5)
        assert (got["words"], got["unknown_words"]) == (want.words, want.unknown_words)
    assert "b" not in body["predictions"][0]["unknown_words"], "the HTML tags were read"

    one = httpx.post(f"{server}/predict", json={"text": HAM_TEXT}).json()
    assert [p["label"] for p in one["predictions"]] == ["ham"]


def test_explain_model_health_and_docs(trained, server):
    engine, run_id = trained
    explained = httpx.post(f"{server}/explain", json={"text": SPAM_TEXT}).json()
    expected = engine.explain(run_id, SPAM_TEXT)
    assert (explained["model"], explained["label"]) == (run_id, "spam")
    assert [t["token"] for t in explained["tokens"]] == [t.token for t in expected.tokens]
    assert [t["attribution"] for t in explained["tokens"]] == pytest.approx(
        [t.attribution for t in expected.tokens], abs=1e-4
    )

    info = httpx.get(f"{server}/model").json()
    result = engine.result(run_id)
    assert (info["model"], info["labels"], info["architecture"]) == (
        run_id,
        ["ham", "spam"],
        "LSTM",
    )
    assert info["test"]["accuracy"] == pytest.approx(result.test.accuracy)
    assert info["cv"]["score"] == pytest.approx(result.cv_best_score)
    assert info["dataset"]["name"] == "spam.csv"
    assert httpx.get(f"{server}/health").json() == {"status": "ok", "model": run_id}
    assert httpx.get(f"{server}/docs").status_code == 200
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]
    assert {"/predict", "/explain", "/model", "/health"} <= set(paths)


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/predict", {"text": ""}, 422, "Text 1 is empty"),
        ("/predict", {"texts": ["fine", "   "]}, 422, "Text 2 is empty"),
        ("/predict", {"texts": []}, 422, "at least one text"),
        ("/predict", {"texts": ["x" * 10_001]}, 413, "10,001 characters"),
        ("/predict", {"texts": ["win"] * 257}, 413, "257 texts"),
        ("/predict", {"texts": ["win", 3]}, 422, "'texts.1'"),
        ("/predict", {"text": "a", "texts": ["b"]}, 422, "not both"),
        ("/predict", {"sentence": "win"}, 422, "'sentence' is not a field"),
        ("/predict", ["win"], 422, "should be a JSON object"),
        ("/predict", '{"texts": ["win"', 400, "not valid JSON"),
        ("/explain", {"text": " "}, 422, "The text is empty"),
        ("/explain", {"text": "x" * 10_001}, 413, "at most 10,000"),
    ],
)
def test_bad_input_gets_a_4xx_and_one_sentence(server, path, body, status, words):
    if isinstance(body, str):  # broken JSON, sent as it is
        answer = httpx.post(
            f"{server}{path}", content=body, headers={"content-type": "application/json"}
        )
    else:
        answer = httpx.post(f"{server}{path}", json=body)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and words in detail
    assert detail.endswith(".") and "\n" not in detail and "Traceback" not in detail


def test_a_body_too_large_is_refused_before_it_is_read(server):
    host, port = server.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        answer = b""
        while not answer.endswith(b"}") and (part := raw.recv(65536)):
            answer += part  # headers and body may come in two pieces
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"413"
    assert "at most 8,388,608 are accepted" in rest.decode()


def test_fifty_concurrent_requests_are_all_answered(trained, server):
    engine, run_id = trained
    texts = toy_texts(25, seed=7)[0].tolist()  # 50 texts the model has not seen, one each
    expected = [p.label for p in engine.predict(run_id, texts)]
    start = threading.Barrier(len(texts))
    with httpx.Client(limits=httpx.Limits(max_connections=len(texts)), timeout=30) as client:

        def ask(text: str) -> tuple[int, str | None]:
            start.wait()
            try:
                answer = client.post(f"{server}/predict", json={"text": text})
            except httpx.HTTPError:
                return 0, None
            labels = (
                [p["label"] for p in answer.json()["predictions"]] if answer.is_success else [None]
            )
            return answer.status_code, labels[0]

        with ThreadPoolExecutor(len(texts)) as pool:
            answers = list(pool.map(ask, texts))
    assert [status for status, _ in answers] == [200] * len(texts)
    assert [label for _, label in answers] == expected


def test_serve_says_in_one_line_why_it_cannot_start(trained, capsys, monkeypatch):
    engine, run_id = trained
    monkeypatch.setenv("LSTM_CORE_HOME", str(engine.root))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", run_id, "--port", str(port)]) == 2
    assert capsys.readouterr().err == (
        f"lstm-core: Port {port} on 127.0.0.1 is already in use; pick another with --port.\n"
    )
    assert main(["serve", "nope", "--port", "0"]) == 2
    assert "There is no run 'nope'" in capsys.readouterr().err
