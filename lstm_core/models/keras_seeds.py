"""Keras' default seeds drawn from a generator of our own, not Python's shared one.

A layer or initializer built without a seed gets one from
`keras.src.random.seed_generator.make_default_seed`, which draws from the `random`
module's global generator. `keras.utils.set_random_seed` seeds that generator, so a lone
process builds the same model every time; but on a Dask worker the event loop's thread
draws from the same generator (connection back-off jitter, the worker's state machine)
while a fit builds its model, and about one fit in six started from other weights than
the same fit run locally. During a fit, Keras draws from a private `random.Random` seeded
with the fit's seed instead: the same draws a freshly seeded global generator gives, so
local runs keep their results, and no other thread can take one.

This is the one place that touches that private module (keras is pinned in pyproject).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

from keras.src.random import seed_generator


@contextmanager
def private_seeds(seed: int) -> Iterator[None]:
    """Within the block, Keras' default seeds come from `random.Random(seed)` alone."""
    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared
