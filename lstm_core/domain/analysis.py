"""What the insight pages get: held-out predictions, slices, calibration, attributions, gates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabelledText:
    """What a model says about one text."""

    text: str
    label: str
    probabilities: dict[str, float]
    words: int = 0
    known_words: int = 0  # words (repeats counted) in the model's vocabulary
    unknown_words: list[str] = field(default_factory=list)  # the others, each once

    @property
    def all_unknown(self) -> bool:
        """No word the model learned: its answer reflects the class balance, not the text."""
        return self.known_words == 0


@dataclass(frozen=True)
class TestPrediction:
    """A held-out text with the run's and the baseline's answers (kept for error analysis)."""

    row: int
    text: str
    true: str
    predicted: str
    probabilities: dict[str, float]
    baseline_predicted: str


@dataclass(frozen=True)
class HeldOutText(TestPrediction):
    """A held-out prediction with what error analysis needs: its loss (-log of the true
    class's probability), its length in tokens, and whether it is also a training text."""

    loss: float = 0.0
    tokens: int = 0
    in_training: bool = False


@dataclass(frozen=True)
class LengthSlice:
    """Held-out scores of the texts of one length bucket, the model's and the baseline's."""

    bucket: str
    texts: int
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float


@dataclass(frozen=True)
class ThresholdMetrics:
    """Two classes decided at a threshold on the positive class's probability; the
    confusion matrix rows are the truth (positive, negative), columns the decision."""

    threshold: float
    positive: str
    negative: str
    confusion_matrix: list[list[int]]
    precision: float
    recall: float
    f1: float
    accuracy: float


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    mean_predicted: float
    observed: float
    count: int


@dataclass(frozen=True)
class TokenAttribution:
    """One token's share of the predicted class's probability (integrated gradients), and
    the size of that probability's gradient at the token (how much it still matters)."""

    token: str
    attribution: float
    gradient: float
    known: bool = True  # False: the model read it as its unknown-word token


@dataclass(frozen=True)
class GateTrace:
    """A recurrent layer's gates and states per token (outer list) per unit (inner list).

    LSTM: input, forget, output, cell, hidden; GRU: update, reset, hidden; SimpleRNN: hidden.
    """

    kind: str
    input: list[list[float]] | None = None
    forget: list[list[float]] | None = None
    output: list[list[float]] | None = None
    cell: list[list[float]] | None = None
    hidden: list[list[float]] | None = None
    update: list[list[float]] | None = None
    reset: list[list[float]] | None = None

    def series(self) -> dict[str, list[list[float]]]:
        """The traces this kind of layer has, by name."""
        names = ("input", "forget", "output", "cell", "hidden", "update", "reset")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclass(frozen=True)
class Explanation:
    """Why a model labels a text so: attributions per token and its first layer's gates."""

    text: str
    label: str
    probabilities: dict[str, float]
    tokens: list[TokenAttribution]
    method: str
    completeness_gap: float  # sum of attributions minus the probability's change
    gates: GateTrace | None = None
    unread_words: int = 0  # words after the model's sequence length, never read


@dataclass(frozen=True)
class LengthProfile:
    """Tokens per text, and the sequence length the 'auto' rule picks from them."""

    auto_length: int
    longest: int
    lengths: list[int]
