"""How long intake takes on a large file: `python bench/intake.py [--rows N] [--json]`.

Writes a synthetic CSV of N rows (default 200,000; 600,000 make about 58 MB) in a
temporary folder, then times `read_path` (decode, sniff, parse, repair, profile) and
`select_columns` separately, and when each stage that the progress bar shows began.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from lstm_core.data.intake import read_path
from lstm_core.data.validation import select_columns

WORDS = [
    "free",
    "win",
    "call",
    "now",
    "prize",
    "see",
    "you",
    "at",
    "lunch",
    "home",
    "later",
    "thanks",
    "ok",
    "love",
    "text",
    "reply",
]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with open(path, "w", encoding="cp1252", newline="") as handle:
        handle.write("label,message\r\n")
        for i in range(rows):
            text = " ".join(rng.choices(WORDS, k=rng.randint(3, 30)))
            handle.write(f'{"spam" if i % 7 == 0 else "ham"},"{text}, £{i}"\r\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        stages: dict[str, float] = {}
        start = time.perf_counter()

        def progress(share: float, stage: str) -> None:
            stages.setdefault(stage.split(" '")[0], round(time.perf_counter() - start, 2))

        df, report = read_path(str(path), progress=progress)
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        select_columns(df, report.suggested_text, report.suggested_label, cv=5, test_size=0.2)
        select_s = time.perf_counter() - start
    figures = {
        "rows": report.rows,
        "megabytes": round(size_mb, 1),
        "read_and_profile_s": round(read_s, 2),
        "select_columns_s": round(select_s, 2),
        "encoding": report.encoding,
        "stage_started_s": stages,
    }
    print(json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
