"""`train`: a file and a design become a run, trained here (the scores printed when it
ends) or queued for a worker (`--background`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from lstm_core.api import (
    SELF_VECTORS,
    Dataset,
    Engine,
    ExperimentSpec,
    ResolvedSpec,
    Run,
    RunResult,
    RunStatus,
)
from lstm_core.cli.console import print_json, printable
from lstm_core.cli.design import (
    add_design_options,
    markup_note,
    spec_from_args,
    with_markup_default,
)
from lstm_core.cli.options import reading_options
from lstm_core.cli.shapes import result_json


def cmd_train(args) -> int:
    design = spec_from_args(args)  # every setting checked before the files are read
    engine = Engine()
    if design.cluster:  # an unreachable scheduler is said now, not as a failed run
        _announce_cluster(engine, design.cluster)
    dataset, resolved = _dataset_and_spec(engine, args, _with_files_kept(engine, design))
    spec = resolved.spec
    if args.background:
        run = engine.submit(resolved)
        if args.json:
            print_json({"run_id": run.id, "status": run.status})
        else:
            print(f"run {run.id} {run.status}; follow it with: lstm-core status {run.id}")
        return 0
    run = engine.start(resolved)
    print(
        f"run {run.id}: {spec.n_candidates()} candidate(s), {spec.n_fits()} fits, "
        f"on {dataset.rows:,} texts",
        file=sys.stderr,
    )
    run = engine.execute(run.id)
    result = engine.result(run.id)
    if args.json:
        print_json(_finished_json(run, result))
    elif result is not None:
        _print_scores(run, spec, result, engine.baseline_advice(result))
    else:
        print(f"run {run.id} {run.status}: {printable(run.error or '')}".rstrip())
    return 0 if run.status == RunStatus.COMPLETED else 1


def _announce_cluster(engine: Engine, address: str) -> None:
    cluster = engine.check_cluster(address)
    print(
        f"note: fits run on the Dask cluster at {printable(cluster.scheduler)} "
        f"({cluster.workers} worker(s)"
        + (f", dashboard {printable(cluster.dashboard)}" if cluster.dashboard else "")
        + ")",
        file=sys.stderr,
    )


def _with_files_kept(engine: Engine, design: ExperimentSpec) -> ExperimentSpec:
    """The design naming the word-vector and corpus files it was given by their kept ids."""
    if design.vectors and design.vectors != SELF_VECTORS:
        design = dataclasses.replace(design, vectors=engine.add_vectors(design.vectors).id)
    if design.vectors_corpus:
        corpus = engine.add_corpus(design.vectors_corpus)
        design = dataclasses.replace(design, vectors_corpus=corpus.id)
    return design


def _dataset_and_spec(engine: Engine, args, design: ExperimentSpec) -> tuple[Dataset, ResolvedSpec]:
    """The file read and kept as a dataset, and the design resolved on it; what deserves a
    second look is said on stderr."""
    frame, report = engine.read_path(args.file, encoding=args.encoding, sheet=args.sheet)
    dataset, notes = engine.freeze_dataset(
        frame,
        args.text,
        args.label,
        Path(args.file).name,
        design.cv,
        design.test_size,
        reading=report.reading,
    )
    spec = dataclasses.replace(design, dataset_id=dataset.id)
    markup = engine.dataset_markup(dataset.id)
    resolved = engine.resolve(with_markup_default(spec, markup))  # a bad design: one line
    spec = resolved.spec
    warnings = [*report.warnings, *engine.column_warnings(frame, args.text, args.label)]
    if markup.with_markup:
        warnings.append(markup_note(spec, markup))
    for note in [*warnings, *notes, *engine.advice(spec)]:
        print(f"note: {printable(note)}", file=sys.stderr)
    return dataset, resolved


def _finished_json(run: Run, result: RunResult | None) -> dict:
    return {
        "run_id": run.id,
        "status": run.status,
        "error": run.error,
        "best_params": result and result.best_params,
        "cv_best_score": result and result.cv_best_score,
        **result_json(result),
        "median_epoch_seconds": result and result.median_epoch_seconds,
        "sequence_length": result and result.sequence_length,
    }


def _print_scores(run: Run, spec: ExperimentSpec, result: RunResult, advice: list[str]) -> None:
    test, base = result.test, result.baseline
    print(
        f"run {run.id} completed; best {printable(result.best_params)} "
        f"(CV {spec.scoring} {result.cv_best_score:.3f})"
    )
    print(f"  test:     accuracy {test.accuracy:.3f}  macro-F1 {test.macro_f1:.3f}")
    print(
        f"  baseline: accuracy {base.accuracy:.3f}  macro-F1 {base.macro_f1:.3f}  "
        f"({printable(base.model)})"
    )
    for line in advice:
        print(f"  {line}")
    if result.parent:
        counts = result.parameters
        print(
            f"  started from run {result.parent}: {counts.trainable:,} parameters trained, "
            f"{counts.frozen:,} frozen"
        )
    if result.vectors is not None:
        v = result.vectors
        print(
            f"  word vectors ({printable(v.source)}): {v.coverage_vocabulary:.0%} of the "
            f"vocabulary, {v.coverage_tokens:.0%} of the training tokens"
        )
    floor = result.majority
    if floor is not None:
        print(
            f"  majority: accuracy {floor.accuracy:.3f}  macro-F1 {floor.macro_f1:.3f}  "
            f"({printable(floor.model)})"  # it names the class
        )


def add_train_command(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="search recurrent models on a file")
    train.add_argument("file")
    train.add_argument("--text", required=True, help="column holding the texts")
    train.add_argument("--label", required=True, help="column holding the labels")
    add_design_options(train)
    reading_options(train)
    train.add_argument("--background", action="store_true", help="queue it and return at once")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=cmd_train)
