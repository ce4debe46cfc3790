"""What `lstm-core serve` takes and answers, as pydantic models: the REST API's contract
(its /docs page is drawn from them), with the limits on what one request may hold."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

MAX_TEXTS = 256  # per /predict request
MAX_TEXT_CHARS = 10_000  # a text; the model reads only its first sequence_length words anyway
MAX_BODY_BYTES = 8 * 1024 * 1024  # refused from its Content-Length, before it is read
EXAMPLE = '{"text": "See you at lunch"}'  # what both /predict and /explain take

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]


class PredictRequest(BaseModel):
    """One text (`text`) or several (`texts`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "WINNER! Claim your prize now"}]},
    )

    text: Text | None = None
    texts: Annotated[list[Text], Field(min_length=1, max_length=MAX_TEXTS)] | None = None

    @model_validator(mode="after")
    def _one_kind_and_words(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise PydanticCustomError(
                "text_or_texts", "Give either 'text' (one text) or 'texts' (a list), not both"
            )
        for number, text in enumerate(self.all_texts(), 1):
            if not text.strip():  # Engine.predict's rule: the model would still answer
                raise PydanticCustomError(
                    "empty_text",
                    "Text {number} is empty; give some words to label",
                    {"number": number},
                )
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class ExplainRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "WINNER! Claim your prize now"}]}
    )

    text: Text

    @model_validator(mode="after")
    def _words(self) -> ExplainRequest:
        if not self.text.strip():  # it would attribute the answer to an [unknown] token
            raise PydanticCustomError("empty_text", "The text is empty; give some words to explain")
        return self


class Prediction(BaseModel):
    """`LabelledText`: the label, each class's probability, the words the model never learned."""

    model_config = ConfigDict(from_attributes=True)

    text: str
    label: str
    probabilities: dict[str, float]
    words: int
    known_words: int
    unknown_words: list[str]


class PredictResponse(BaseModel):
    model: str = Field(description="the run whose model answered")
    predictions: list[Prediction]


class TokenScore(BaseModel):
    token: str
    attribution: float
    gradient: float
    known: bool


class ExplainResponse(BaseModel):
    """`Explanation` without the gates: attributions are what a caller acts on."""

    model: str
    text: str
    label: str
    probabilities: dict[str, float]
    tokens: list[TokenScore]
    method: str
    completeness_gap: float
    unread_words: int


class ClassScore(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    precision: float
    recall: float
    f1: float
    support: int


class Scores(BaseModel):
    """An `Evaluation` on the held-out texts, without the curve points."""

    model_config = ConfigDict(from_attributes=True)

    model: str | None
    accuracy: float
    macro_f1: float
    labels: list[str]
    per_class: dict[str, ClassScore]
    confusion_matrix: list[list[int]]
    n_test: int
    roc_auc: float | None = None
    pr_auc: float | None = None


class CrossValidation(BaseModel):
    scoring: str
    score: float
    accuracy: float | None


class DatasetInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    text_column: str
    label_column: str
    rows: int


class Limits(BaseModel):
    max_texts: int = MAX_TEXTS
    max_text_chars: int = MAX_TEXT_CHARS
    max_body_bytes: int = MAX_BODY_BYTES


class ModelInfo(BaseModel):
    model: str
    name: str | None
    note: str | None
    architecture: str
    best_params: dict[str, Any]
    config: dict[str, Any]
    labels: list[str]
    dataset: DatasetInfo
    trained_at: float | None
    sequence_length: int
    vocabulary_size: int
    cv: CrossValidation
    test: Scores
    baseline: Scores
    majority: Scores | None
    limits: Limits


class Health(BaseModel):
    status: str
    model: str
