"""What to try when the TF-IDF baseline beats the recurrent model, from what was measured.

A person who sees a linear model win may conclude that recurrent networks do not work on
their text. Each suggestion here raised the recurrent model's held-out scores on short
noisy texts where it was measured (bench/RESULTS.md, "Quality on short noisy text"), and
is offered only where the run did not already use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lstm_core.domain.entities import RunResult


@dataclass(frozen=True)
class Suggestion:
    """One change to try, when a configuration does not already have it."""

    applies: Callable[[Mapping[str, Any]], bool]
    text: str


SUGGESTIONS = (
    Suggestion(
        lambda c: not c.get("embedding_dropout") or not c.get("arch", "").startswith("bi"),
        "Try a wider bidirectional model that drops whole word vectors while training "
        "(BiLSTM, 64 units, embedding size 100, embedding dropout 0.3, dropout 0.3, patience "
        "2, epochs 10): on airline tweets it gained about a point of accuracy and macro-F1 "
        "over the default and stayed within half a point of the baseline, at about 3 times "
        "the time.",
    ),
)
# Measured and not offered, because they did not help the default on short noisy texts:
# keeping punctuation with early stopping, subword tokens (bench/RESULTS.md).


def baseline_advice(result: RunResult) -> list[str]:
    """One sentence saying where the baseline wins, then what to try (empty: it does not)."""
    beaten = result.baseline_wins()
    if not beaten:
        return []
    config = result.best_config
    tips = [s.text for s in SUGGESTIONS if s.applies(config)]
    head = f"The TF-IDF baseline beats the recurrent model here on {' and '.join(beaten)}."
    closing = (
        "On short noisy texts the two are often within a point or two of each other "
        "(bench/RESULTS.md); a search over units, embedding size and dropout, or more "
        "training texts, is the next step."
    )
    return [head, *tips, closing]
