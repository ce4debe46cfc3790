"""Text to sequences: vocabulary, length policy, padding, and a JSON round trip."""

from __future__ import annotations

import numpy as np

from lstm_core.data.vectorizer import OOV_ID, PAD_ID, SequenceVectorizer


def test_auto_length_is_the_95th_percentile_of_training_lengths():
    texts = ["w " * n for n in range(1, 101)]
    vectorizer = SequenceVectorizer(sequence_length="auto").fit(texts)
    assert vectorizer.sequence_length_ == 96
    assert vectorizer.longest_ == 100


def test_sequences_are_post_padded_and_post_truncated():
    vectorizer = SequenceVectorizer(sequence_length=4).fit(["a b c", "a b", "a"])
    out = vectorizer.transform(["a b", "c b a a a a", "zzz"])
    a, b, c = (vectorizer.vocabulary_[t] for t in "abc")
    assert out.tolist() == [[a, b, PAD_ID, PAD_ID], [c, b, a, a], [OOV_ID, PAD_ID, PAD_ID, PAD_ID]]
    assert out.dtype == np.int32


def test_empty_text_is_never_a_fully_masked_row():
    vectorizer = SequenceVectorizer(sequence_length=3).fit(["hello world"])
    assert vectorizer.transform(["", "!!!"]).tolist() == [[OOV_ID, 0, 0], [OOV_ID, 0, 0]]


def test_max_tokens_keeps_the_most_frequent_and_bounds_every_id():
    texts = ["common common common rare1", "common rare2 middle middle"]
    vectorizer = SequenceVectorizer(max_tokens=4).fit(texts)
    assert set(vectorizer.vocabulary_) == {"common", "middle"}
    assert vectorizer.transform(texts).max() < 4


def test_lowercase_and_punctuation_options():
    keep_case = SequenceVectorizer(lowercase=False, strip_punctuation=False)
    assert keep_case.tokenize("Win NOW!") == ["Win", "NOW", "!"]
    assert SequenceVectorizer().tokenize("Win NOW!") == ["win", "now"]


def test_json_round_trip_gives_identical_sequences():
    texts = ["Free entry to win", "see you at lunch", "win win win"]
    vectorizer = SequenceVectorizer(max_tokens=50, sequence_length="auto").fit(texts)
    again = SequenceVectorizer.from_json(vectorizer.to_json())
    assert np.array_equal(
        vectorizer.transform(texts + ["unknown"]), again.transform(texts + ["unknown"])
    )
