"""Subword pieces for the vectorizer's `tokens="subwords"`: a byte-pair (BPE) vocabulary
learnt from a fit's training texts with Hugging Face `tokenizers`, so that the rare words,
hashtags and misspellings of short noisy texts read as known pieces instead of unknown.

The trained tokenizer is plain JSON (`Tokenizer.to_str`), kept inside the vectorizer's
JSON, so a saved model cuts a typed sentence exactly as its training texts were cut.

Word starts are marked by the pre-tokenizer ("▁" before each word, as SentencePiece does)
rather than by the trainer's `continuing_subword_prefix`: with that prefix, tokenizers
0.23 numbers the "##" pieces in hash-map order and breaks ties between merges by those
numbers, so the same texts learn other merges in another process (huggingface/tokenizers
#1794). Without it the training is deterministic, and `shown` writes the pieces in the
familiar word-piece form ("hel", "##lo") that the vocabulary, the views and word vectors
use: a whole word is its own piece, as a word vector file spells it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

SUBWORDS = "subwords"
MARK = "\u2581"  # "▁", put before each word by the pre-tokenizer
CONTINUES = "##"  # how a piece that continues a word is shown
PAD, UNKNOWN = "[PAD]", "[UNK]"  # BPE ids 0 and 1, as the vectorizer's padding and unknown
NOT_WORD = r"[^\w\s]"  # a punctuation mark or symbol, as the word tokenizer's pattern


def untrained(lowercase: bool, strip_punctuation: bool) -> Tokenizer:
    """A BPE tokenizer that lowercases (if asked), splits on whitespace and on each
    punctuation mark (dropped when `strip_punctuation`, as the word tokenizer does) and
    marks where each word starts."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNKNOWN))
    if lowercase:
        tokenizer.normalizer = normalizers.Lowercase()
    behaviour = "removed" if strip_punctuation else "isolated"
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(NOT_WORD), behaviour),
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement=MARK, prepend_scheme="always", split=False),
        ]
    )
    return tokenizer


def train(
    texts: Sequence[str], vocabulary_size: int, lowercase: bool, strip_punctuation: bool
) -> Tokenizer:
    """A BPE vocabulary of `vocabulary_size` entries (padding and unknown included) learnt
    from `texts` alone; the same texts give the same tokenizer in any process."""
    tokenizer = untrained(lowercase, strip_punctuation)
    trainer = trainers.BpeTrainer(
        vocab_size=int(vocabulary_size), special_tokens=[PAD, UNKNOWN], show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def restored(text: str) -> Tokenizer:
    """A trained tokenizer from its JSON string (no code runs: it is data)."""
    return Tokenizer.from_str(text)


def shown(piece: str) -> str:
    """BPE's "▁hel", "lo" as "hel", "##lo": a piece that continues a word is marked (a lone
    "▁", a word start whose first character was never merged, stays as it is)."""
    if piece.startswith(MARK):
        return piece[len(MARK) :] or MARK
    return CONTINUES + piece


def encode(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Each text's BPE ids, all texts at once."""
    return [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]


def pieces(tokenizer: Tokenizer, text: str) -> list[str]:
    """The text's pieces, one per BPE id; a character no training text had shows as
    itself (read as unknown) rather than as "[UNK]"."""
    encoding = tokenizer.encode(text)
    unknown = tokenizer.token_to_id(UNKNOWN)
    return [
        CONTINUES + text[start:end] if index == unknown else shown(piece)
        for piece, index, (start, end) in zip(
            encoding.tokens, encoding.ids, encoding.offsets, strict=True
        )
    ]


def counts(tokenizer: Tokenizer, ids: list[list[int]], cut: int) -> Counter:
    """How often each shown piece occurs within the first `cut` ids of the texts (padding
    and unknown not counted)."""
    flat = np.fromiter((i for row in ids for i in row[:cut]), dtype=np.int64)
    found = np.bincount(flat, minlength=tokenizer.get_vocab_size())
    specials = {tokenizer.token_to_id(PAD), tokenizer.token_to_id(UNKNOWN)}
    counted: Counter = Counter()
    for piece, index in tokenizer.get_vocab().items():
        if found[index] and index not in specials:
            counted[shown(piece)] += int(found[index])
    return counted


def id_table(tokenizer: Tokenizer, vocabulary: dict[str, int], unknown_id: int) -> np.ndarray:
    """The vectorizer's id of each BPE id: a kept piece's id, else `unknown_id`."""
    table = np.full(tokenizer.get_vocab_size(), unknown_id, dtype=np.int32)
    for piece, index in tokenizer.get_vocab().items():
        table[index] = vocabulary.get(shown(piece), unknown_id)
    return table
