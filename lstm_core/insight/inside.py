"""What a trained model does with one text: per-token attributions, and its first
layer's gates and states, recomputed from the trained weights.

Attribution is integrated gradients on the embeddings (Sundararajan et al., 2017): the
embedded text is scaled from an all-zero baseline to itself in `IG_STEPS` steps, and each
token's attribution is its embedding times the mean gradient of the predicted class's
probability along that path, summed over dimensions. The attributions add up to the
probability's change from the baseline to the text (completeness); `completeness_gap`
says how far the Riemann sum is from that, so a reader can trust the colours or not.

The gates are each architecture's own (`Architecture.gates`: Keras' LSTM, GRU and
SimpleRNN equations in NumPy, token by token), so a student sees the equations of the
course at work; a test checks the hidden states against the layer's own output.
"""

from __future__ import annotations

import numpy as np

from lstm_core.data.vectorizer import OOV_ID
from lstm_core.domain.analysis import Explanation, GateTrace, TokenAttribution
from lstm_core.domain.architectures.registry import architecture
from lstm_core.domain.hyperparams import ARCHITECTURES
from lstm_core.models.model_zoo import body_layers, embedding_layer

IG_STEPS = 64
UNKNOWN_TOKEN = "[unknown]"


def tokens_and_ids(vectorizer, text: str) -> tuple[list[str], np.ndarray, int]:
    """The tokens the model reads (cut at its sequence length), their ids, and how many
    words the cut left unread; a text with no word reads as one unknown token, as in
    training."""
    every = vectorizer.tokenize(text)
    tokens = every[: vectorizer.sequence_length_]
    ids = [vectorizer.vocabulary_.get(token, OOV_ID) for token in tokens]
    if not ids:
        return [UNKNOWN_TOKEN], np.array([OOV_ID], dtype=np.int32), 0
    return tokens, np.array(ids, dtype=np.int32), len(every) - len(tokens)


def _after_embedding(model):
    """The model from the embedding's output on: embedded batch -> class probabilities."""
    start = model.layers.index(embedding_layer(model)) + 1
    layers = model.layers[start:]

    def forward(embedded):
        x = embedded
        for layer in layers:
            x = layer(x, training=False)
        return x

    return forward


def integrated_gradients(model, ids: np.ndarray, target: int, steps: int = IG_STEPS):
    """Per-token attributions to class `target`, the plain gradient norm per token (at
    the text itself), and the completeness gap."""
    import tensorflow as tf

    embedded = embedding_layer(model)(ids[None, :]).numpy()[0]  # (tokens, dim)
    forward = _after_embedding(model)
    alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps  # midpoint Riemann sum
    path = tf.constant(alphas[:, None, None] * embedded[None, :, :])
    with tf.GradientTape() as tape:
        tape.watch(path)
        scores = forward(path)[:, target]
    gradients = tape.gradient(scores, path).numpy()
    attributions = (embedded * gradients.mean(axis=0)).sum(axis=1)
    ends = forward(tf.constant(np.stack([np.zeros_like(embedded), embedded])))
    ends = np.asarray(ends)[:, target]
    at_text = tf.constant(embedded[None, :, :])
    with tf.GradientTape() as tape:
        tape.watch(at_text)
        score = forward(at_text)[:, target]
    local = np.linalg.norm(tape.gradient(score, at_text).numpy()[0], axis=1)
    gap = float(attributions.sum() - (ends[1] - ends[0]))
    return attributions, local, gap


def gate_trace(model, ids: np.ndarray) -> GateTrace | None:
    """The first body layer's gates and states per token (forward direction), recomputed
    by the model's architecture; None for an architecture without gates."""
    code = model.name.removesuffix("_classifier")
    gates = architecture(code).gates if code in ARCHITECTURES else None
    layers = body_layers(model)
    if gates is None or not layers:
        return None
    cell_layer = getattr(layers[0], "forward_layer", layers[0])  # a bidirectional's forward half
    return gates(cell_layer.get_weights(), embedding_layer(model)(ids[None, :]).numpy()[0])


def explain(bundle, text: str) -> Explanation:
    """The label, the probabilities, each token's attribution, and the gates."""
    tokens, ids, unread = tokens_and_ids(bundle.vectorizer, text)
    proba = bundle.predict_proba([text])[0]  # padded as the model expects, as Predict does
    target = int(proba.argmax())
    attributions, local, gap = integrated_gradients(bundle.model, ids, target)
    return Explanation(
        text=text,
        label=bundle.labels[target],
        probabilities={
            label: round(float(p), 6) for label, p in zip(bundle.labels, proba, strict=True)
        },
        tokens=[
            TokenAttribution(token, round(float(a), 6), round(float(g), 6), bool(i != OOV_ID))
            for token, a, g, i in zip(tokens, attributions, local, ids, strict=True)
        ],
        unread_words=unread,
        method=f"integrated gradients on the embeddings ({IG_STEPS} steps from an all-zero "
        "embedding), for the predicted class's probability",
        completeness_gap=round(gap, 6),
        gates=gate_trace(bundle.model, ids),
    )
