"""A completed run's model behind a small REST API (FastAPI on uvicorn): `lstm-core serve`.

The port is bound first, then the model loads once into the engine, and answers through
`Engine.predict` and `Engine.explain`, so the server and the CLI agree. Requests that arrive while the model is busy wait and go through
it together in one batch. Input is bounded (texts per request, characters per text, body
bytes) and a bad request gets a 4xx with a one-sentence `detail`, never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lstm_core.api import ARCHITECTURE_NAMES, Engine, LabelledText, UserError, to_plain
from lstm_core.cli.serving_schema import (
    EXAMPLE,
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    CrossValidation,
    DatasetInfo,
    ExplainRequest,
    ExplainResponse,
    Health,
    Limits,
    ModelInfo,
    Prediction,
    PredictRequest,
    PredictResponse,
    Scores,
)


class Batcher:
    """Requests that arrive while the model runs a batch go through it together next, so
    fifty clients at once cost a few forward passes rather than fifty, and a lone request
    waits for nobody. One batch at a time: the model's own threads use every core."""

    def __init__(
        self,
        predict: Callable[[list[str]], list[LabelledText]],
        max_texts: int,
        lane: asyncio.Lock,
    ):
        self.predict = predict
        self.max_texts = max_texts
        self.lane = lane  # the model's one lane, shared with /explain
        self._waiting: list[tuple[list[str], asyncio.Future]] = []
        self._draining: asyncio.Task | None = None

    async def __call__(self, texts: list[str]) -> list[LabelledText]:
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append((texts, answer))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        while self._waiting:
            batch, size = [], 0
            while self._waiting and (
                not batch or size + len(self._waiting[0][0]) <= self.max_texts
            ):
                texts, answer = self._waiting.pop(0)
                batch.append((texts, answer))
                size += len(texts)
            try:
                async with self.lane:
                    labelled = await asyncio.to_thread(
                        self.predict, [text for texts, _ in batch for text in texts]
                    )
            except Exception as exc:  # each waiting request hears it, none hangs
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            start = 0
            for texts, answer in batch:
                if not answer.done():  # its client may have gone away
                    answer.set_result(labelled[start : start + len(texts)])
                start += len(texts)


def build_app(engine: Engine, run_id: str) -> FastAPI:
    """The API for one completed run; its model is loaded and traced here, not on the first
    request."""
    run = engine.run(run_id)
    result = engine.result(run.id)
    if result is None:
        raise UserError(
            f"Run '{run.id}' has no result to serve: it is {run.status}; pick a completed run."
        )
    card = engine.load_model(run.id)
    engine.predict(run.id, ["warm up"])  # traces the forward pass once
    info = ModelInfo(
        model=run.id,
        name=run.name,
        note=run.note,
        architecture=ARCHITECTURE_NAMES[result.best_config["arch"]],
        best_params=result.best_params,
        config=result.best_config,
        labels=card.labels,
        dataset=DatasetInfo.model_validate(run.dataset),
        trained_at=run.finished_at,
        sequence_length=result.sequence_length,
        vocabulary_size=result.vocabulary_size,
        cv=CrossValidation(**result.cv()),
        test=Scores.model_validate(result.test),
        baseline=Scores.model_validate(result.baseline),
        majority=result.majority and Scores.model_validate(result.majority),
        limits=Limits(),
    )
    lane = asyncio.Lock()  # one model call at a time: each uses every core already
    batcher = Batcher(lambda texts: engine.predict(run.id, texts), MAX_TEXTS, lane)
    app = FastAPI(
        title=f"Run {run.title}",
        summary=f"{info.architecture} text classifier trained on {run.dataset.name} "
        f"(labels: {', '.join(card.labels)}).",
        version=run.id,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_exception_handler(RequestValidationError, _refused)
    app.add_exception_handler(UserError, _user_error)

    @app.post("/predict", response_model=PredictResponse)
    async def predict(request: PredictRequest) -> PredictResponse:
        """Labels and per-class probabilities for one text or a list of them."""
        labelled = await batcher(request.all_texts())
        return PredictResponse(
            model=run.id, predictions=[Prediction.model_validate(item) for item in labelled]
        )

    @app.post("/explain", response_model=ExplainResponse)
    async def explain(request: ExplainRequest) -> ExplainResponse:
        """Each token's share of the predicted class's probability (integrated gradients)."""
        async with lane:  # in the model's lane, never beside a batch of /predict
            explanation = await asyncio.to_thread(engine.explain, run.id, request.text)
        return ExplainResponse.model_validate({**to_plain(explanation), "model": run.id})

    @app.get("/model", response_model=ModelInfo)
    async def model() -> ModelInfo:
        """The run behind the answers: its design, its labels and its held-out scores."""
        return info

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        return Health(status="ok", model=run.id)

    return app


class BodyLimit:
    """Refuses a POST whose body is too large (413) or of unstated length (411) before it is
    read, so one request cannot fill the memory of the process that keeps the model."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            length = dict(scope["headers"]).get(b"content-length", b"")
            if not length.isdigit():
                sentence = "Send the body with a Content-Length header (not chunked)."
                return await JSONResponse({"detail": sentence}, 411)(scope, receive, send)
            if int(length) > self.limit:
                sentence = (
                    f"The body has {int(length):,} bytes; at most {self.limit:,} are accepted: "
                    "send fewer texts per request."
                )
                return await JSONResponse({"detail": sentence}, 413)(scope, receive, send)
        await self.app(scope, receive, send)


async def _refused(request: Request, exc: RequestValidationError) -> JSONResponse:
    status, sentence = refusal(exc.errors()[0])
    return JSONResponse({"detail": sentence}, status_code=status)


async def _user_error(request: Request, exc: UserError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def refusal(error: dict) -> tuple[int, str]:
    """A request validation error as a status and one sentence a person can act on."""
    kind, where, given = error["type"], error["loc"][1:], error.get("input")
    if kind == "json_invalid":
        return 400, (
            f"The body is not valid JSON ({error['ctx']['error']} at character {where[0]}); "
            f"send for example {EXAMPLE}."
        )
    if kind == "string_too_long":
        which = f"Text {where[1] + 1}" if len(where) > 1 else "The text"
        return 413, (
            f"{which} has {len(given):,} characters; at most {MAX_TEXT_CHARS:,} are accepted: "
            "shorten it."
        )
    if kind == "too_long":
        return 413, (
            f"The request has {len(given):,} texts; at most {MAX_TEXTS:,} are accepted in one: "
            "send them in several requests."
        )
    if kind in ("text_or_texts", "empty_text"):
        return 422, f"{error['msg']}."
    if kind == "too_short":
        return 422, "The list of texts is empty; give at least one text."
    if kind == "missing" and not where:
        return 422, f"The request has no JSON body; send for example {EXAMPLE}."
    if not where:
        return 422, f"The body should be a JSON object; send for example {EXAMPLE}."
    field = ".".join(str(part) for part in where)
    if kind == "extra_forbidden":
        return 422, f"'{field}' is not a field this takes; send for example {EXAMPLE}."
    return 422, f"'{field}' is not usable ({error['msg'].lower()}); send for example {EXAMPLE}."


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a sentence saying why there is none (a port in use, say)."""
    if not 0 <= port <= 65535:
        raise UserError(f"Port {port} does not exist; give one from 1 to 65535 (0: any free one).")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
    except socket.gaierror:
        raise UserError(
            f"'{host}' is not an address this machine can listen on; try 127.0.0.1 or 0.0.0.0."
        ) from None
    # proto TCP, not 0: asyncio sets TCP_NODELAY only on such sockets' connections, and
    # without it a keep-alive client waits 40 ms for each answer (Nagle and delayed ACKs)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"Port {port} on {host} is already in use; pick another with --port."
            ) from None
        raise UserError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}).") from None
    return sock


def serve(engine: Engine, run_id: str, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Open the port (a port in use is said at once), load the model, tell `ready` the
    address, then answer until Ctrl-C; requests sent meanwhile wait for the model."""
    import uvicorn

    sock = listen(host, port)
    try:
        app = build_app(engine, run_id)
    except BaseException:
        sock.close()
        raise
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level="warning"))
    shown = f"[{host}]" if ":" in host else host
    ready(f"http://{shown}:{bound}")
    server.run(sockets=[sock])
