"""Word vectors to start an embedding from: read from a text file, or trained on the data.

A vectors file is read as text only, never unpickled: GloVe's `word v1 ... vn` lines, or
word2vec / fastText `.vec` files whose first line is `count dim`, either of them gzipped.
A malformed line stops the reading with one sentence naming the line. Reading keeps only
the words asked for (a run needs the words of its own texts, not 400,000 of them).

Self-trained vectors come from gensim's word2vec on the training texts (and an optional
unlabelled text file): unsupervised transfer with no download. One worker thread, the
run's seed and a word hash that does not change between processes make them the same for
the same seed.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_core.domain.entities import VectorsCoverage
from lstm_core.domain.errors import UserError

MAX_TEXT_BYTES = 2 * 1024**3  # uncompressed text read from one file (GloVe 6B 300d is ~1 GB)
MIN_DIM, MAX_DIM = 2, 1024  # the embedding sizes a model accepts
RANDOM_SCALE = 0.05  # unknown words start as Keras' own embedding does: uniform(-0.05, 0.05)
WORD2VEC_EPOCHS = 10
WORD2VEC_WINDOW = 5


@dataclass(frozen=True, eq=False)
class WordVectors:
    """Words and their vectors (one row each), as read or trained."""

    words: tuple[str, ...]
    matrix: np.ndarray  # (len(words), dim) float32

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def index(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    def only(self, words: set[str]) -> WordVectors:
        """The vectors of these words alone, in the same order."""
        rows = [i for i, word in enumerate(self.words) if word in words]
        return WordVectors(tuple(self.words[i] for i in rows), self.matrix[rows])


@dataclass(frozen=True)
class VectorsFileInfo:
    """What a first full read of a vectors file found."""

    words: int
    dim: int
    header: bool
    gzipped: bool


def _lines(path: Path, name: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a plain or gzipped UTF-8 file, at most MAX_TEXT_BYTES of it."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    read = 0
    try:
        with opener(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                read += len(line)
                if read > MAX_TEXT_BYTES:
                    raise UserError(
                        f"'{name}' holds more than {MAX_TEXT_BYTES // 1024**3} GB of text; "
                        "use a smaller vectors file (fewer words or dimensions)."
                    )
                try:
                    yield number, line.decode("utf-8")
                except UnicodeDecodeError:
                    raise UserError(
                        f"Line {number} of '{name}' is not UTF-8 text; a vectors file must be "
                        "plain text (GloVe or word2vec / fastText .vec), optionally gzipped."
                    ) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(
            f"'{name}' cannot be read as a (gzipped) text file ({exc}); give a GloVe or "
            "word2vec / fastText .vec text file."
        ) from None


def _header(fields: list[str]) -> int | None:
    """The dimension a `count dim` header line gives, or None for a vector line."""
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[1])
    return None


def _malformed(name: str, number: int, why: str, dim: int | None) -> UserError:
    shape = f"a word and {dim} numbers" if dim else "a word and its numbers"
    return UserError(
        f"Line {number} of '{name}' is not {shape} ({why}); each line must be 'word v1 ... vn' "
        "(GloVe), after an optional 'count dim' header line (word2vec / fastText .vec)."
    )


def _parse(
    path: Path, name: str, keep: Callable[[str], bool], every_line: bool
) -> tuple[list[str], list[np.ndarray], VectorsFileInfo]:
    """The kept words' vectors; `every_line` checks the numbers of the others too."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    dim: int | None = None
    header = False
    count = 0
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    for number, line in _lines(path, name):
        fields = line.split()
        if not fields:
            continue
        if number == 1 and (given := _header(fields)) is not None:
            dim, header = given, True
            if not MIN_DIM <= dim <= MAX_DIM:
                raise _malformed(name, number, f"its header gives {dim} dimensions", None)
            continue
        if dim is None:
            dim = len(fields) - 1
            if not MIN_DIM <= dim <= MAX_DIM:
                raise _malformed(
                    name, number, f"{dim} numbers; vectors need {MIN_DIM} to {MAX_DIM}", None
                )
        if len(fields) < dim + 1:
            found = len(fields) - 1
            raise _malformed(
                name, number, f"it has {found} value{'s' if found != 1 else ''} after the word", dim
            )
        # A few GloVe words contain spaces: the numbers are the last `dim` fields.
        word = " ".join(fields[:-dim])
        count += 1
        wanted = word not in seen and keep(word)
        if not (wanted or every_line):
            continue
        try:
            vector = np.array(fields[-dim:], dtype=np.float32)
        except ValueError:
            bad = next(f for f in fields[-dim:] if not _is_number(f))
            raise _malformed(name, number, f"'{bad[:20]}' is not a number", dim) from None
        if not np.isfinite(vector).all():
            raise _malformed(name, number, "it holds an infinite or NaN value", dim)
        if not wanted:
            continue
        seen.add(word)
        words.append(word)
        rows.append(vector)
    if dim is None or not count:
        raise UserError(f"'{name}' holds no word vectors; give a GloVe or .vec text file.")
    return words, rows, VectorsFileInfo(count, dim, header, gzipped)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def inspect_vectors(path: str | Path, name: str | None = None) -> VectorsFileInfo:
    """Read a whole file once, checking every line (what an upload goes through)."""
    path = Path(path)
    return _parse(path, name or path.name, lambda word: False, every_line=True)[2]


def read_vectors(path: str | Path, wanted: Iterable[str], name: str | None = None) -> WordVectors:
    """The vectors of the `wanted` words, and of their lower-case forms (what `lookup`
    falls back to), found in the file (the first of a repeated word).

    Only their numbers are read: every line of a kept file was checked when it was added
    (`inspect_vectors`), and a large file is read again for each run."""
    path = Path(path)
    wanted = set(wanted)
    wanted |= {word.lower() for word in wanted}
    words, rows, info = _parse(path, name or path.name, wanted.__contains__, every_line=False)
    matrix = np.stack(rows) if rows else np.zeros((0, info.dim), np.float32)
    return WordVectors(tuple(words), matrix)


def _stable_hash(text: str) -> int:
    """For gensim's `hashfxn`: gensim 4.4 draws first vectors from its seed, but its
    `seeded_vector` still hashes words, by default with Python's own hash, which changes
    between processes (PYTHONHASHSEED); this one does not. A test trains in two processes."""
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(tokenized: list[list[str]], dim: int, seed: int) -> WordVectors:
    """Skip-gram word2vec on these token lists: every word seen gets a vector."""
    from gensim.models import Word2Vec

    sentences = [tokens for tokens in tokenized if tokens]
    if not sentences:
        raise UserError("There are no words to train word vectors on; check the text column.")
    model = Word2Vec(
        sentences=sentences,
        vector_size=dim,
        window=WORD2VEC_WINDOW,
        min_count=1,
        sg=1,
        workers=1,
        seed=seed,
        epochs=WORD2VEC_EPOCHS,
        hashfxn=_stable_hash,
    )
    words = tuple(model.wv.index_to_key)
    return WordVectors(words, np.asarray(model.wv.vectors, dtype=np.float32))


def lookup(vectors: WordVectors, index: dict[str, int], word: str) -> int | None:
    """The row of `word`, or of its lower-case form (GloVe's words are lower case)."""
    row = index.get(word)
    return index.get(word.lower()) if row is None else row


def embedding_matrix(
    vectors: WordVectors, vocabulary: dict[str, int], rows: int, seed: int
) -> np.ndarray:
    """An embedding's starting weights: a word's vector where the file has it, else random.

    `vocabulary` maps words to ids (0 is padding, 1 unknown; both start random too, as
    padding is masked). Rows past the vocabulary (rounding) stay random.
    """
    generator = np.random.default_rng(seed)
    matrix = generator.uniform(-RANDOM_SCALE, RANDOM_SCALE, (rows, vectors.dim)).astype(np.float32)
    index = vectors.index()
    for word, row in vocabulary.items():
        found = lookup(vectors, index, word)
        if found is not None and row < rows:
            matrix[row] = vectors.matrix[found]
    return matrix


def coverage(
    vectors: WordVectors, vocabulary: dict[str, int], counts: Counter, source: str = ""
) -> VectorsCoverage:
    """Shares of the vocabulary's words, and of the running tokens (`counts`, every token
    of the training texts), whose embedding row starts from a vector."""
    index = vectors.index()
    covered = {w for w in vocabulary if lookup(vectors, index, w) is not None}
    tokens = sum(counts.values())
    covered_tokens = sum(n for word, n in counts.items() if word in covered)
    return VectorsCoverage(
        coverage_vocabulary=round(len(covered) / len(vocabulary), 4) if vocabulary else 0.0,
        coverage_tokens=round(covered_tokens / tokens, 4) if tokens else 0.0,
        words=len(vocabulary),
        covered=len(covered),
        source=source,
    )


def write_vectors(vectors: WordVectors, path: str | Path, header: bool = True) -> Path:
    """Save vectors as a `.vec` text file (what a person can reuse, or load as a file)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as out:
        if header:
            out.write(f"{len(vectors.words)} {vectors.dim}\n")
        for word, row in zip(vectors.words, vectors.matrix, strict=True):
            out.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    return path
