"""Embedding dropout: whole word vectors dropped while training, never when predicting, and
the padding mask still reaches the recurrent layer."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_core.domain.hyperparams import ARCHITECTURES
from lstm_core.models.model_zoo import build_model, layer_table

SMALL = {"max_tokens": 50, "embedding_dim": 6, "units": 3}


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_builds_with_it_and_predicts_without_it(arch):
    model = build_model(arch, n_classes=2, sequence_length=8, embedding_dropout=0.5, **SMALL)
    assert [row.layer for row in layer_table(model)][1] == "SpatialDropout1D"
    words = np.array([[5, 9, 17, 3, 0, 0, 0, 0]], dtype="int32")
    # Predicting is deterministic; training drops vectors, so two training passes differ.
    np.testing.assert_allclose(model(words, training=False), model(words, training=False))
    assert not np.allclose(model(words, training=True), model(words, training=True))


def test_the_padding_mask_passes_through_it():
    short = build_model("lstm", n_classes=2, sequence_length=3, embedding_dropout=0.3, **SMALL)
    long = build_model("lstm", n_classes=2, sequence_length=12, embedding_dropout=0.3, **SMALL)
    long.set_weights(short.get_weights())
    words = [5, 9, 17]
    a = np.asarray(short(np.array([words], dtype="int32"), training=False))
    b = np.asarray(long(np.array([words + [0] * 9], dtype="int32"), training=False))
    np.testing.assert_allclose(a, b, atol=1e-5)
