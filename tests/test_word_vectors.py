"""Word-vector files read as text (GloVe, .vec, gzip), coverage, and self-trained word2vec."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from lstm_core.api import Engine, UserError
from lstm_core.data.word_vectors import (
    RANDOM_SCALE,
    coverage,
    embedding_matrix,
    read_vectors,
    train_word2vec,
)

DIM = 8


def made_vectors(n_words: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """A few hundred words with random vectors, as a test writes them into a file."""
    rng = np.random.default_rng(seed)
    return {f"word{i}": rng.normal(size=DIM).astype(np.float32) for i in range(n_words)}


def write_glove(path, vectors: dict[str, np.ndarray], header: bool = False) -> None:
    lines = [f"{len(vectors)} {DIM}"] if header else []
    lines += [w + " " + " ".join(repr(float(x)) for x in v) for w, v in vectors.items()]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@pytest.mark.parametrize(
    "name, header", [("glove.txt", False), ("wiki.vec", True), ("g.txt.gz", False)]
)
def test_each_text_format_gives_the_file_s_numbers_exactly(tmp_path, name, header):
    vectors = made_vectors()
    write_glove(tmp_path / name, vectors, header)
    read = read_vectors(tmp_path / name, ["word3", "word299", "absent"])
    assert read.words == ("word3", "word299")
    np.testing.assert_array_equal(read.matrix, np.stack([vectors["word3"], vectors["word299"]]))


def test_embedding_rows_of_covered_words_are_the_file_s_vectors(tmp_path):
    vectors = made_vectors()
    write_glove(tmp_path / "v.txt", vectors)
    vocabulary = {"word5": 2, "WORD7": 3, "unseen": 4}  # ids as the vectorizer gives them
    read = read_vectors(tmp_path / "v.txt", {"word5", "word7", "unseen"})
    matrix = embedding_matrix(read, vocabulary, rows=16, seed=1)
    np.testing.assert_array_equal(matrix[2], vectors["word5"])
    np.testing.assert_array_equal(matrix[3], vectors["word7"])  # its lower-case form
    assert np.abs(matrix[[0, 1, 4]]).max() <= RANDOM_SCALE  # padding, unknown, unseen: random
    assert not np.array_equal(matrix[4], embedding_matrix(read, vocabulary, 16, seed=2)[4])


def test_coverage_counts_words_and_running_tokens():
    vectors = read_vectors_from({"cat": np.ones(DIM), "dog": np.ones(DIM)})
    vocabulary = {"cat": 2, "dog": 3, "emu": 4, "yak": 5}
    counts = Counter({"cat": 5, "dog": 1, "emu": 3, "yak": 1, "cut-off": 10})
    found = coverage(vectors, vocabulary, counts)
    assert found.coverage_vocabulary == 0.5  # cat and dog of four words
    assert found.coverage_tokens == 0.3  # 6 of 20 running tokens
    assert (found.words, found.covered) == (4, 2)


def read_vectors_from(table: dict[str, np.ndarray]):
    from lstm_core.data.word_vectors import WordVectors

    return WordVectors(tuple(table), np.stack(list(table.values())).astype(np.float32))


@pytest.mark.parametrize(
    "line, says",
    [
        ("broken 0.1 0.2", "Line 4 of 'v.txt' is not a word and 8 numbers (it has 2 values"),
        ("oops " + " ".join(["0.1"] * 7) + " x1", "Line 4 of 'v.txt' is not a word and 8 numbers ('x1' is not a number)"),
        ("nan " + " ".join(["nan"] * 8), "Line 4 of 'v.txt' is not a word and 8 numbers (it holds an infinite or NaN value)"),
    ],
)  # fmt: skip
def test_a_malformed_line_is_one_sentence_and_nothing_is_kept(tmp_path, line, says):
    vectors = made_vectors(3)
    write_glove(tmp_path / "v.txt", vectors)
    with open(tmp_path / "v.txt", "a") as out:
        out.write(line + "\n" + "word9 " + " ".join(["0.5"] * DIM) + "\n")
    engine = Engine(tmp_path / "ws")
    with pytest.raises(UserError) as error:
        engine.add_vectors(tmp_path / "v.txt")
    message = str(error.value)
    assert message.startswith(says)
    assert not re.search(r"\.\s+[A-Z]", message) and "\n" not in message  # one sentence
    assert engine.text_files("vectors") == []
    assert not list((tmp_path / "ws").rglob("data"))  # no copy left behind


def test_binary_and_empty_files_are_refused_in_one_sentence(tmp_path):
    engine = Engine(tmp_path / "ws")
    (tmp_path / "model.bin").write_bytes(b"\x80\x04\x95 pickled \xff\xfe")
    with pytest.raises(UserError, match=r"^Line 1 of 'model.bin' is not UTF-8 text"):
        engine.add_vectors(tmp_path / "model.bin")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(UserError, match="holds no word vectors"):
        engine.add_vectors(tmp_path / "empty.txt")


def test_a_kept_file_is_listed_once_with_its_size(tmp_path):
    write_glove(tmp_path / "v.vec", made_vectors(), header=True)
    engine = Engine(tmp_path / "ws")
    first = engine.add_vectors(tmp_path / "v.vec")
    again = engine.add_vectors((tmp_path / "v.vec").read_bytes(), "copy.vec")
    assert first.id == again.id and (first.words, first.dim) == (300, DIM)
    assert [f.id for f in engine.text_files("vectors")] == [first.id]
    assert "300 words × 8 dimensions" in first.describe()


def test_self_trained_vectors_are_the_same_in_another_process(tmp_path):
    """gensim seeds word vectors from a hash of each word: Python's own hash differs between
    processes, so without a stable one the same seed would give other vectors."""
    sentences = [["free", "prize", "call", "now"], ["see", "you", "at", "lunch"]] * 20
    here = train_word2vec(sentences, dim=DIM, seed=3)
    code = (
        "import sys, numpy as np\n"
        "from lstm_core.data.word_vectors import train_word2vec\n"
        "s = [['free', 'prize', 'call', 'now'], ['see', 'you', 'at', 'lunch']] * 20\n"
        "v = train_word2vec(s, dim=8, seed=3)\n"
        "np.save(sys.argv[1], v.matrix); print(' '.join(v.words))\n"
    )
    out = tmp_path / "vectors.npy"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    )
    assert tuple(done.stdout.split()) == here.words
    np.testing.assert_array_equal(np.load(out), here.matrix)
    assert set(here.words) == {"free", "prize", "call", "now", "see", "you", "at", "lunch"}
