"""Word-vector files and unlabelled text files a person gave, kept in the workspace.

A run names such a file by id (a hash of its bytes), so a worker, a resume or a second run
reads exactly what was checked when it was added. A vectors file is read through once when
it is added (`word_vectors.inspect_vectors`): a malformed line is refused then, with one
sentence, before any run depends on it. Each file sits in its own folder with a small JSON
description, written last, so a folder without it is an unfinished copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from lstm_core.data.word_vectors import MAX_TEXT_BYTES, inspect_vectors
from lstm_core.domain.entities import TextFile
from lstm_core.domain.errors import UserError

VECTORS, CORPUS = "vectors", "corpus"
DATA_NAME = "data"
INFO_NAME = "info.json"
MAX_FILE_BYTES = MAX_TEXT_BYTES  # what is stored (gzipped files count as stored)


def _folder(root: Path, file_id: str) -> Path:
    return root / "texts" / file_id


def add_file(root: Path, source: Path | bytes, name: str, kind: str) -> TextFile:
    """Check and keep a file; the same bytes added twice are kept once."""
    size = len(source) if isinstance(source, bytes) else _size(source)
    if size > MAX_FILE_BYTES:
        raise UserError(
            f"'{name}' is {size / 1024**3:.1f} GB; files up to "
            f"{MAX_FILE_BYTES // 1024**3} GB are accepted."
        )
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    file_id = f"{kind[0]}{digest.hexdigest()[:12]}"
    folder = _folder(root, file_id)
    if (folder / INFO_NAME).exists():
        return read_info(root, file_id)
    scratch = folder.with_name(f"{file_id}.{os.getpid()}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        data = scratch / DATA_NAME
        if isinstance(source, bytes):
            data.write_bytes(source)
        else:
            shutil.copyfile(source, data)
        words = dim = None
        if kind == VECTORS:
            info = inspect_vectors(data, name)
            words, dim = info.words, info.dim
        else:
            _check_text(data, name)
        entry = TextFile(file_id, name, kind, size, time.time(), words, dim)
        (scratch / INFO_NAME).write_text(json.dumps(entry.__dict__), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        scratch.rename(folder)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return entry


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise UserError(f"Cannot read '{path}': {exc.strerror or exc}.") from None


def _check_text(path: Path, name: str) -> None:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"'{name}' is not UTF-8 text; save it as UTF-8 and add it again.") from None


def read_info(root: Path, file_id: str) -> TextFile:
    path = _folder(root, file_id) / INFO_NAME
    try:
        return TextFile(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        raise UserError(
            f"There is no word-vector or text file '{file_id}' in this workspace; add it again."
        ) from None


def data_path(root: Path, file_id: str) -> Path:
    read_info(root, file_id)
    return _folder(root, file_id) / DATA_NAME


def list_files(root: Path, kind: str) -> list[TextFile]:
    """Newest first."""
    folder = root / "texts"
    entries = []
    for info in folder.glob(f"*/{INFO_NAME}") if folder.is_dir() else ():
        try:
            entry = read_info(root, info.parent.name)
        except UserError:
            continue
        if entry.kind == kind:
            entries.append(entry)
    return sorted(entries, key=lambda e: -e.added_at)
