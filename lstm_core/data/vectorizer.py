"""Raw strings -> padded integer sequences, as a scikit-learn transformer.

Fitted inside each CV fold by the Pipeline, so the vocabulary and the sequence length
never see test data. Pure Python and NumPy (no TensorFlow) so it is cheap to import and
its state is plain JSON: a bundle loads it without unpickling anything.

Id 0 is padding (masked by the embedding), id 1 is out-of-vocabulary. Sequences are
post-padded and post-truncated; a text with no tokens gets one OOV token so that no row is
fully masked (cuDNN rejects zero-length sequences).

Tokens are words, or (`tokens="subwords"`) byte-pair pieces learnt in `fit` from the
training texts (`lstm_core.data.subwords`); from the pieces on, both count, rank and number
tokens the same way, and the trained tokenizer travels in the JSON as its own JSON string.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from lstm_core.data import subwords
from lstm_core.data.markup import strip_markup
from lstm_core.domain.hyperparams import defaults

PAD_ID, OOV_ID = 0, 1
DEFAULTS = defaults()
WORDS = "words"
LENGTH_PERCENTILE = 95
_WORDS = re.compile(r"\w+")
_WORDS_AND_PUNCTUATION = re.compile(r"\w+|[^\w\s]")


class SequenceVectorizer(TransformerMixin, BaseEstimator):
    """Tokenize, keep the `max_tokens` most frequent tokens, pad to a length chosen from data.

    `sequence_length="auto"` takes the `length_percentile` of the training lengths: padding
    to the longest text costs several times the compute and, unmasked, stops an LSTM from
    learning at all (docs/DESIGN.md).
    """

    def __init__(
        self,
        max_tokens=10_000,
        sequence_length="auto",
        lowercase=True,
        strip_punctuation=True,
        length_percentile=LENGTH_PERCENTILE,
        strip_html=False,
        tokens=WORDS,
    ):
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.strip_punctuation = strip_punctuation
        self.length_percentile = length_percentile
        self.strip_html = strip_html
        self.tokens = tokens

    def clean(self, text) -> str:
        """The text as the model reads it before tokenizing: HTML tags and entities gone
        when `strip_html` (a saved vectorizer carries the setting, so a typed sentence is
        cleaned as the training texts were)."""
        text = "" if text is None else str(text)
        return strip_markup(text) if self.strip_html else text

    @property
    def _subwords(self) -> bool:
        """Pieces rather than words (checked where it is read, as scikit-learn wants)."""
        if self.tokens not in (WORDS, subwords.SUBWORDS):
            raise ValueError(f"tokens must be {WORDS} or {subwords.SUBWORDS}; got {self.tokens}")
        return self.tokens == subwords.SUBWORDS

    def tokenize(self, text) -> list[str]:
        """The tokens of `text`: words, or the pieces of the tokenizer `fit` learnt."""
        text = self.clean(text)
        if self._subwords:
            check_is_fitted(self, "tokenizer_")
            return subwords.pieces(self.tokenizer_, text)
        if self.lowercase:
            text = text.lower()
        pattern = _WORDS if self.strip_punctuation else _WORDS_AND_PUNCTUATION
        return pattern.findall(text)

    def fit(self, X, y=None):
        if int(self.max_tokens) < 3:
            raise ValueError(
                f"max_tokens must be at least 3 (padding, unknown, one word); got {self.max_tokens}"
            )
        if self._subwords:
            cleaned = [self.clean(text) for text in X]
            self.tokenizer_ = subwords.train(
                cleaned, int(self.max_tokens), self.lowercase, self.strip_punctuation
            )
            tokenized = subwords.encode(self.tokenizer_, cleaned)
        else:
            tokenized = [self.tokenize(text) for text in X]
        lengths = np.fromiter((len(t) for t in tokenized), dtype=np.int64, count=len(tokenized))
        if self.sequence_length == "auto":
            self.sequence_length_ = auto_sequence_length(lengths, self.length_percentile)
        else:
            self.sequence_length_ = int(self.sequence_length)
        self.longest_ = int(lengths.max()) if len(lengths) else 0
        # Only tokens inside the kept length: a word seen only after the cut never trains
        # its embedding, so it reads as unknown, and every id occurs in the training rows.
        # (So does every subword id: a piece only an intermediate merge made, never left
        # in a training text, is not kept.)
        cut = self.sequence_length_
        if self._subwords:
            counts = subwords.counts(self.tokenizer_, tokenized, cut)
        else:
            counts = Counter(token for tokens in tokenized for token in tokens[:cut])
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = ranked[: int(self.max_tokens) - 2]
        self.vocabulary_ = {token: index + 2 for index, (token, _) in enumerate(kept)}
        self._index_pieces()
        return self

    def _index_pieces(self) -> None:
        """The vectorizer's id of each BPE id, so that subword texts become ids in NumPy."""
        if self._subwords:
            self.piece_ids_ = subwords.id_table(self.tokenizer_, self.vocabulary_, OOV_ID)

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        length, vocabulary = self.sequence_length_, self.vocabulary_
        out = np.zeros((len(X), length), dtype=np.int32)
        if self._subwords:
            encoded = subwords.encode(self.tokenizer_, [self.clean(text) for text in X])
            for row, ids in enumerate(encoded):
                ids = self.piece_ids_[ids[:length]] if ids else [OOV_ID]
                out[row, : len(ids)] = ids
            return out
        for row, text in enumerate(X):
            ids = [vocabulary.get(token, OOV_ID) for token in self.tokenize(text)[:length]] or [
                OOV_ID
            ]
            out[row, : len(ids)] = ids
        return out

    @property
    def vocabulary_size_(self) -> int:
        return len(self.vocabulary_) + 2

    def to_json(self) -> str:
        check_is_fitted(self, "vocabulary_")
        tokens = sorted(self.vocabulary_, key=self.vocabulary_.get)
        return json.dumps(
            {
                "params": self.get_params(),
                "sequence_length_": self.sequence_length_,
                "longest_": self.longest_,
                "tokens": tokens,
                **({"tokenizer": self.tokenizer_.to_str()} if self._subwords else {}),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SequenceVectorizer:
        state = json.loads(text)
        vectorizer = cls(**state["params"])
        vectorizer.vocabulary_ = {token: i + 2 for i, token in enumerate(state["tokens"])}
        vectorizer.sequence_length_ = int(state["sequence_length_"])
        vectorizer.longest_ = int(state["longest_"])
        if vectorizer._subwords:  # JSON saved before subwords has no `tokens` param: words
            vectorizer.tokenizer_ = subwords.restored(state["tokenizer"])
            vectorizer._index_pieces()
        return vectorizer


def auto_sequence_length(lengths, percentile: float = LENGTH_PERCENTILE) -> int:
    """The 'auto' rule: the length that the given share of texts fit in (at least 1)."""
    lengths = np.asarray(lengths)
    if not len(lengths):
        return 1
    return int(max(1, np.ceil(np.percentile(lengths, percentile))))


def token_lengths(texts, strip_html: bool = False) -> np.ndarray:
    """Tokens per text as a run's words are cut by default (the table's text settings, HTML
    stripped first if asked): what 'auto' sequence lengths are estimated from."""
    settings = {name: DEFAULTS[name] for name in ("lowercase", "strip_punctuation")}
    tokenize = SequenceVectorizer(strip_html=strip_html, **settings).tokenize
    return np.fromiter((len(tokenize(t)) for t in texts), dtype=np.int64, count=len(texts))
