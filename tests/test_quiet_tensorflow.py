"""TensorFlow's load-time log lines stay off stderr (lstm_core.models.quiet_tensorflow)."""

from __future__ import annotations

import os
import subprocess
import sys

QUIET = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**QUIET, **env}
    )


def test_loading_tensorflow_through_the_engine_writes_nothing_to_stderr():
    loaded = python("import lstm_core, keras; keras.layers.Dense(2)")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""


def test_stderr_is_back_after_the_import_and_errors_still_show():
    shown = python(
        "import lstm_core, os, tensorflow\n"
        "from lstm_core.models.quiet_tensorflow import native_stderr_silenced\n"
        "with native_stderr_silenced():\n"
        "    os.write(2, b'dropped')\n"
        "os.write(2, b'after the import')\n"
        "raise SystemExit('a Python error')\n"
    )
    assert shown.stderr == "after the importa Python error\n"
