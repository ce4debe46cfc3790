"""What a design may say about its starting point (a saved model, word vectors), checked
before anything runs: what can be frozen, what a started model takes from its source.

The layer groups come from the architectures (`lstm_core.domain.architectures`): the
embedding, and each architecture's body as a whole or layer by layer.
"""

from __future__ import annotations

from typing import Any, Protocol

from lstm_core.domain.architectures.architecture import EMBEDDING
from lstm_core.domain.architectures.registry import architecture, architectures
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import hyperparameter

MAX_LAYERS = int(hyperparameter("layers").high)
GROUPS = tuple(dict.fromkeys(a.group for a in architectures()))
# What a transferred model keeps frozen: one of these, or a comma list of FREEZABLE layers.
FREEZE = ("all", EMBEDDING, *GROUPS, "none")
FREEZABLE = tuple(dict.fromkeys(n for a in architectures() for n in a.freezable(MAX_LAYERS)))
# What a model started from a saved one takes from it: its vectorizer and its layers' shapes.
INHERITED = (
    "arch",
    "units",
    "layers",
    "embedding_dim",
    "tokens",
    "max_tokens",
    "sequence_length",
    "lowercase",
    "strip_punctuation",
    "strip_html",
    *dict.fromkeys(name for a in architectures() for name in a.inherited),
)
# What word vectors fix: the embedding's width and how texts are cut into words (or pieces).
FIXED_BY_VECTORS = ("embedding_dim", "tokens", "lowercase", "strip_punctuation", "strip_html")
SELF_VECTORS = "self"  # word vectors trained on the data set's own training texts
MAX_FINE_TUNE_EPOCHS = 500


class StartDesign(Protocol):
    """What of a design (`ExperimentSpec`) the starting point's checks read."""

    parent: str
    freeze: str
    fine_tune_epochs: int
    vectors: str
    vectors_corpus: str
    grid: dict[str, list]
    ranges: dict[str, Any]

    def values_of(self, name: str) -> list: ...


def canonical_freeze(text: str) -> str:
    """ "recurrent_2, Embedding" -> "embedding,recurrent_2"; all and none stand alone."""
    parts = sorted({part.strip().lower() for part in text.split(",") if part.strip()})
    if len(parts) == 1 and parts[0] in ("all", "none"):
        return parts[0]
    unknown = [part for part in parts if part not in FREEZABLE]
    if unknown:
        raise UserError(
            f"'{unknown[0]}' is not something to freeze; give all, none, or layers from "
            f"{', '.join(FREEZABLE)} (comma-separated)."
        )
    return ",".join(parts)


def frozen_groups(freeze: str, arch: str) -> frozenset[str]:
    """The layer groups `freeze` keeps frozen in a model of `arch` ('all': the embedding
    and the whole body)."""
    if freeze == "none":
        return frozenset()
    if freeze in ("all", ""):
        return frozenset({EMBEDDING, architecture(arch).group})
    return frozenset(freeze.split(","))


def check_freezable(frozen: frozenset[str], arch: str, layers: int, source: str) -> None:
    """One sentence when `source`, a model of `arch` with `layers` body layers, has no
    layer `frozen` names."""
    group = architecture(arch).group
    for name in sorted(frozen - set(architecture(arch).freezable(layers))):
        raise UserError(f"{source} has {layers} {group} layer(s), so there is no {name} to freeze.")


def checked_freeze(design: StartDesign) -> str:
    """The design's canonical freeze setting, once its transfer and word-vector settings
    are known to make sense together (else one sentence)."""
    if design.parent and design.vectors:
        raise UserError(
            "Start from a saved model or from word vectors, not both; the saved model "
            "already holds its embedding."
        )
    freeze = canonical_freeze(design.freeze or "")
    if freeze and not design.parent:
        raise UserError("--freeze needs a model to start from; add --from RUN_ID.")
    epochs = design.fine_tune_epochs
    if not isinstance(epochs, int) or not 0 <= epochs <= MAX_FINE_TUNE_EPOCHS:
        raise UserError(
            f"fine-tune epochs = {epochs} is not possible; use 0 (none) to {MAX_FINE_TUNE_EPOCHS}."
        )
    if epochs and not (design.parent or design.vectors):
        raise UserError(
            "Fine-tuning continues a model started from a saved model or from word "
            "vectors; add --from RUN_ID or --vectors, or drop --fine-tune-epochs."
        )
    if design.vectors_corpus and design.vectors != SELF_VECTORS:
        raise UserError("An extra text file trains word vectors only with --vectors self.")
    if not design.vectors and False in design.values_of("vectors_trainable"):
        raise UserError(
            "vectors_trainable = false keeps word vectors as they are, but no word vectors "
            "were given; add --vectors PATH or self."
        )
    single = ()
    if design.parent:
        single = INHERITED
    elif design.vectors:
        single = FIXED_BY_VECTORS
    for name in single:
        if name in design.grid or name in design.ranges:
            source = "the saved model" if design.parent else "the word vectors"
            raise UserError(
                f"{name} comes from {source}, so it cannot be searched; drop it from the "
                "grid and the ranges."
            )
    return (freeze or "all") if design.parent else ""
