"""Which Keras backend fits train on: `$LSTM_CORE_BACKEND`, `tensorflow` (default) or `jax`.

Only fit processes follow it; the dashboard, `predict` and `explain` load bundles with
TensorFlow, and a `.keras` file saved under either backend loads under the other. JAX ran
steady LSTM epochs about twice as fast here, but compiles the training step once per batch
shape (TensorFlow traces one step for any width), so under JAX batch widths are rounded up
(`lstm_core.models.batching.width_step`): a few compiles per model instead of one per length. Measured in
bench/RESULTS.md: on the default run the compiles cost more than the faster epochs save, so
TensorFlow stays the default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from lstm_core.domain.errors import UserError

BACKEND_VARIABLE = "LSTM_CORE_BACKEND"
BACKENDS = ("tensorflow", "jax")


def training_backend() -> str:
    """The backend fit processes use; a value that is not one gets a sentence."""
    name = os.environ.get(BACKEND_VARIABLE, "tensorflow").strip().lower() or "tensorflow"
    if name not in BACKENDS:
        raise UserError(
            f"{BACKEND_VARIABLE}={name!r} is not a backend this workbench trains on; "
            f"use one of {', '.join(BACKENDS)}."
        )
    if name == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            raise UserError(
                f"{BACKEND_VARIABLE}=jax needs JAX: pip install -e '.[jax]', or unset it."
            ) from None
    return name


@contextmanager
def for_fit_processes() -> Iterator[None]:
    """Processes spawned inside this block start Keras on the training backend (a spawned
    process copies this process's environment when it starts)."""
    wanted = training_backend()
    before = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = wanted
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KERAS_BACKEND", None)
        else:
            os.environ["KERAS_BACKEND"] = before
