"""Traced models kept for the next fit of the same architecture in this process.

A new model costs about 1.3 s of training-step tracing and 0.3-0.5 s more for its predict
function, as much as a 3-epoch fit on half of spam.csv. A grid fits the same architecture
again and again (each fold; candidates that differ only in batch size, epochs, class
weights or early stopping), so once the estimator that used a model is gone, the model is
kept and handed to the next fit with every variable (weights, optimizer state, dropout
seeds) set back to its value at build time: the same start as a new model built from the
same seed, without tracing again.

A model is only handed out while no estimator holds it: it comes back when its owner is
garbage-collected, never while a fitted estimator (a refit being saved, say) still uses it.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

KEEP = 4  # free models kept per process; each is a few MB

_free: OrderedDict[Hashable, list[tuple[object, list]]] = OrderedDict()


def checkout(owner: object, key: Hashable, build: Callable[[], object]):
    """A model for `owner`: a kept one with this key, reset, or else `build()`."""
    kept = _free.get(key)
    if kept:
        model, snapshot = kept.pop()
        if not kept:
            del _free[key]
        for variable, value in zip(_state(model), snapshot, strict=True):
            variable.assign(value)
    else:
        model = build()
        snapshot = [variable.numpy() for variable in _state(model)]
    finalizer = weakref.finalize(owner, _release, key, model, snapshot)
    finalizer.atexit = False
    return model


def kept() -> int:
    return sum(len(models) for models in _free.values())


def _release(key: Hashable, model: object, snapshot: list) -> None:
    _free.setdefault(key, []).append((model, snapshot))
    _free.move_to_end(key)
    while kept() > KEEP:
        oldest = next(iter(_free))
        _free[oldest].pop(0)
        if not _free[oldest]:
            del _free[oldest]


def _state(model) -> list:
    return list(model.variables) + list(model.optimizer.variables)
