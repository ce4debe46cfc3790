"""Does the default design beat TF-IDF + logistic regression? `python bench/quality.py`.

Each data set is read from a path given on the command line (nothing is downloaded), as
`--data NAME=PATH` or `--data NAME=PATH:TEXT_COLUMN:LABEL_COLUMN`. For every set and seed
a fresh workspace trains the workbench's default design through the run path, exactly
as the dashboard's Launch does with nothing changed but the seed (so each seed draws its
own held-out split), and reads what the run reports: the held-out accuracy and macro-F1
of the recurrent model, of the TF-IDF (1-2 grams) + logistic-regression baseline fitted on
the same split, and of always answering the majority class, with the run's wall time.

`--ungrouped` also trains each set and seed with repeated texts allowed on both sides of
the split (the way runs split before repeats were kept together), to show how much of a
score is memory. `--search` also trains a small search (`SEARCH`, one validation split)
beside the default. `--design '{"arch": "lstm"}'` trains a design other than the
default (parameters overlaid on it), to compare candidate defaults on the same splits;
`--spec '{"vectors": "self"}'` sets fields of the design itself (here: the embedding starts
from word2vec trained on the training texts).

Prints one line per run and a summary per set; with `--json` the last line is one JSON
object. Figures are in bench/RESULTS.md ("Quality on short noisy text").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A small search a person might try next: the two token settings on two cells.
SEARCH = {"tokens": ["words", "subwords"], "arch": ["bigru", "lstm"]}


@dataclass(frozen=True)
class DataSet:
    name: str
    path: Path
    text: str | None
    label: str | None


@dataclass(frozen=True)
class Outcome:
    data: str
    seed: int
    design: str
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    majority_accuracy: float
    majority_macro_f1: float
    seconds: float
    n_train: int
    n_test: int
    best: str

    @property
    def wins(self) -> bool:
        """Above the baseline on both measures (strictly: a tie is no win)."""
        return self.accuracy > self.baseline_accuracy and self.macro_f1 > self.baseline_macro_f1


def data_set(text: str) -> DataSet:
    """`NAME=PATH` or `NAME=PATH:TEXT:LABEL` from the command line."""
    name, _, rest = text.partition("=")
    if not name or not rest:
        raise argparse.ArgumentTypeError(f"give NAME=PATH[:TEXT:LABEL], not '{text}'")
    path, *columns = rest.split(":")
    if columns and len(columns) != 2:
        raise argparse.ArgumentTypeError(f"give both columns or none in '{text}'")
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"no file at {path}")
    return DataSet(name, Path(path), *(columns or (None, None)))


def frozen(engine, data: DataSet):
    """The set as a dataset of the workspace, its columns given or as the reader suggests."""
    frame, report = engine.read_path(data.path)
    text, label = data.text or report.suggested_text, data.label or report.suggested_label
    return engine.freeze_dataset(frame, text, label, data.path.name)[0], text, label


def trained(engine, spec, data: str, design: str) -> Outcome:
    started = time.perf_counter()
    run = engine.train(spec)
    seconds = time.perf_counter() - started
    result = engine.result(run.id)
    if result is None:
        raise SystemExit(f"{data} seed {spec.seed} ({design}) failed: {run.error}")
    return Outcome(
        data,
        spec.seed,
        design,
        round(result.test.accuracy, 4),
        round(result.test.macro_f1, 4),
        round(result.baseline.accuracy, 4),
        round(result.baseline.macro_f1, 4),
        round(result.majority.accuracy, 4),
        round(result.majority.macro_f1, 4),
        round(seconds, 1),
        result.n_train,
        result.n_test,
        result.describe_best(),
    )


def designs(args, dataset_id: str, text: str, label: str, seed: int) -> dict[str, object]:
    from lstm_core.api import ExperimentSpec

    base = dict(dataset_id=dataset_id, text_column=text, label_column=label, seed=seed)
    chosen = {**(args.spec or {}), **({"params": args.design} if args.design else {})}
    if args.cv is not None:
        chosen["cv"] = args.cv
    named = {"default": ExperimentSpec(**base, **chosen)}
    if args.ungrouped:
        named["default, ungrouped"] = ExperimentSpec(**base, **chosen, group_repeats=False)
    if args.search:
        named["small search"] = ExperimentSpec(**base, **{**chosen, "cv": 0}, grid=SEARCH)
    return named


def summary(outcomes: list[Outcome]) -> list[dict]:
    """Per set and design: mean and worst seed of each measure, wins, mean wall time."""
    rows = []
    for data, design in dict.fromkeys((o.data, o.design) for o in outcomes):
        part = [o for o in outcomes if o.data == data and o.design == design]
        row = {"data": data, "design": design, "seeds": len(part)}
        for measure in (
            "accuracy",
            "macro_f1",
            "baseline_accuracy",
            "baseline_macro_f1",
            "majority_accuracy",
            "majority_macro_f1",
        ):
            values = [getattr(o, measure) for o in part]
            row[measure] = round(statistics.mean(values), 4)
        row["worst_margin_accuracy"] = round(min(o.accuracy - o.baseline_accuracy for o in part), 4)
        row["worst_margin_macro_f1"] = round(min(o.macro_f1 - o.baseline_macro_f1 for o in part), 4)
        row["wins"] = sum(o.wins for o in part)
        row["seconds"] = round(statistics.mean(o.seconds for o in part), 1)
        row["slowest_seconds"] = max(o.seconds for o in part)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=data_set, action="append", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ungrouped", action="store_true")
    parser.add_argument("--search", action="store_true")
    parser.add_argument("--design", type=json.loads, default=None)
    parser.add_argument("--cv", type=int, default=None)
    parser.add_argument("--spec", type=json.loads, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from lstm_core.api import Engine

    outcomes = []
    for data in args.data:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="bench-quality-") as root:
                engine = Engine(root)
                dataset, text, label = frozen(engine, data)
                for design, spec in designs(args, dataset.id, text, label, seed).items():
                    outcome = trained(engine, spec, data.name, design)
                    outcomes.append(outcome)
                    print(
                        f"{data.name:>10} seed {seed} {design:<20} "
                        f"acc {outcome.accuracy:.3f} F1 {outcome.macro_f1:.3f} | baseline "
                        f"{outcome.baseline_accuracy:.3f} {outcome.baseline_macro_f1:.3f} | "
                        f"majority {outcome.majority_accuracy:.3f} | "
                        f"{'WIN ' if outcome.wins else 'loss'} {outcome.seconds:.0f} s "
                        f"({outcome.best})",
                        flush=True,
                    )
    rows = summary(outcomes)
    print()
    for row in rows:
        print(
            f"{row['data']:>10} {row['design']:<20} acc {row['accuracy']:.3f} "
            f"(baseline {row['baseline_accuracy']:.3f}, worst margin "
            f"{row['worst_margin_accuracy']:+.3f})  F1 {row['macro_f1']:.3f} (baseline "
            f"{row['baseline_macro_f1']:.3f}, worst margin {row['worst_margin_macro_f1']:+.3f})"
            f"  wins {row['wins']}/{row['seeds']}  {row['seconds']:.0f} s "
            f"(slowest {row['slowest_seconds']:.0f} s)"
        )
    if args.json:
        print(json.dumps({"runs": [o.__dict__ for o in outcomes], "summary": rows}))


if __name__ == "__main__":
    main()
