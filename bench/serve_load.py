"""A served model under load: `python bench/serve_load.py [--rounds N] [--run RUN_ID] [--json]`.

Trains the default LSTM on the bundled SMS sample (2 epochs, one validation split) in a
scratch workspace, or takes `--run RUN_ID` from $LSTM_CORE_HOME, starts
`lstm-core serve RUN --port 0` on the loopback and sends it, from this one process:
- burst: N rounds in which 50 clients, each on its own keep-alive connection, send one
  sentence each to POST /predict at the same moment (a first round, which opens the
  connections, is not counted); latency of each request from its first byte sent to its
  last byte read;
- alone: 50 requests one after another on one connection, for comparison.
Errors are requests that got no answer or a status other than 200. The client is a few
lines of asyncio over raw sockets, the lightest there is, since it shares the cores with
the server it measures. With `--json` the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "sms_spam.csv"
CLIENTS = 50


def cli(*args: str, home: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LSTM_CORE_HOME": home, "LSTM_CORE_WARM_S": "0"}
    return subprocess.run(
        [sys.executable, "-m", "lstm_core", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )


def train(home: str) -> str:
    out = cli(
        "train", str(SAMPLE), "--text", "message", "--label", "label", "--arch", "lstm",
        "--epochs", "2", "--cv", "0", "--json", home=home,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])["run_id"]


def sentences() -> list[str]:
    """Fifty different messages of the sample, as a person would type them."""
    sys.path.insert(0, str(ROOT))
    from lstm_core.data.intake import read_path

    frame, _ = read_path(str(SAMPLE))
    return frame["message"].drop_duplicates().head(CLIENTS).tolist()


def start_server(run_id: str, home: str, log: Path) -> tuple[subprocess.Popen, str, int]:
    env = {**os.environ, "LSTM_CORE_HOME": home}
    server = subprocess.Popen(
        [sys.executable, "-m", "lstm_core", "serve", run_id, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=env,
        cwd=ROOT,
    )
    line = server.stdout.readline()  # "serving run ... at http://127.0.0.1:PORT ...", or EOF
    if "serving run" not in line:
        server.kill()
        raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")
    address = line.split(" at http://", 1)[1].split()[0]
    host, port = address.rsplit(":", 1)
    return server, host, int(port)


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, payload: dict) -> tuple[int, float]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        self.writer.write(head + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = json.loads(await self.reader.readexactly(length))
        seconds = time.perf_counter() - started
        if status == 200 and not answer["predictions"][0]["label"]:
            status = 0
        return status, seconds


async def one(client: Client, text: str) -> tuple[int, float]:
    try:
        return await client.post("/predict", {"text": text})
    except (OSError, ValueError, KeyError, asyncio.IncompleteReadError):
        client.writer = None
        return 0, float("nan")


async def measure(host: str, port: int, texts: list[str], rounds: int) -> dict:
    clients = [Client(host, port) for _ in texts]
    await asyncio.gather(*(one(c, t) for c, t in zip(clients, texts, strict=True)))  # connect
    burst: list[tuple[int, float]] = []
    started = time.perf_counter()
    for _ in range(rounds):
        burst += await asyncio.gather(*(one(c, t) for c, t in zip(clients, texts, strict=True)))
    burst_s = time.perf_counter() - started
    alone = [await one(clients[0], text) for text in texts]
    return {"burst": summary(burst, burst_s), "alone": summary(alone, None)}


def summary(results: list[tuple[int, float]], wall_s: float | None) -> dict:
    times = sorted(seconds * 1000 for status, seconds in results if status == 200)
    cut = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    figures = {
        "requests": len(results),
        "errors": sum(status != 200 for status, _ in results),
        "p50_ms": round(cut[49], 1),
        "p95_ms": round(cut[94], 1),
        "p99_ms": round(cut[98], 1),
        "max_ms": round(times[-1], 1),
    }
    if wall_s:
        figures["requests_per_s"] = round(len(results) / wall_s)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="bursts of 50 requests")
    parser.add_argument("--run", help="a completed run in $LSTM_CORE_HOME (default: train one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = os.environ.get("LSTM_CORE_HOME", "workspace") if args.run else scratch
        run_id = args.run or train(home)
        texts = sentences()
        server, host, port = start_server(run_id, home, Path(scratch) / "server.log")
        try:
            figures = asyncio.run(measure(host, port, texts, args.rounds))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    figures.update(clients=CLIENTS, rounds=args.rounds, run=run_id, cores=os.cpu_count())
    if args.json:
        print(json.dumps(figures))
    else:
        for mode in ("burst", "alone"):
            print(f"{mode}: {figures[mode]}")


if __name__ == "__main__":
    main()
