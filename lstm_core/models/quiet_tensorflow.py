"""TensorFlow's load-time log lines kept off stderr while its log level asks for quiet.

TensorFlow 2.19 and later write absl's "All log messages before absl::InitializeLog() is
called are written to STDERR" and an INFO line about oneDNN while their native libraries
load, before they read `TF_CPP_MIN_LOG_LEVEL` (tensorflow/tensorflow#100442). A CLI error
that needs a model then came out as five lines instead of one sentence. So, while
`tensorflow` is first imported, file descriptor 2 points at /dev/null; an exception the
import raises is raised after stderr is back. With `TF_CPP_MIN_LOG_LEVEL=0` nothing is
hidden.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Whatever is written to file descriptor 2 inside the block is dropped."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietFirstImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as usual, once, and loads it with stderr silenced."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module) -> None:
            with native_stderr_silenced():
                load(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """From the package's import: before anything of ours can import TensorFlow."""
    quiet = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") not in ("", "0")
    installed = any(isinstance(f, _QuietFirstImport) for f in sys.meta_path)
    if quiet and "tensorflow" not in sys.modules and not installed:
        sys.meta_path.insert(0, _QuietFirstImport())
