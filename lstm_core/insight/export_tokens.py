"""The exported script's lines that cut a text into tokens as the run's vectorizer did:
words by a regular expression, or (tokens = "subwords") the byte-pair pieces of a
tokenizer the script trains on its own training texts exactly as the workbench trains one
(`lstm_core.data.subwords`: the same normaliser, pre-tokenizer, trainer and spelling of
the pieces), so it learns the run's pieces and vocabulary.
`lstm_core.insight.code_export` puts them in the script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lstm_core.data import subwords

WORDS = r"""def tokenize(text):
    if CONFIG["strip_html"]:
        text = strip_html(text)
    if CONFIG["lowercase"]:
        text = text.lower()
    return re.findall(r"\w+" if CONFIG["strip_punctuation"] else r"\w+|[^\w\s]", text)"""

SUBWORDS = '''MARK = {mark}  # put before each word: a piece without it continues one


def cleaned(text):
    return strip_html(text) if CONFIG["strip_html"] else text


def subword_tokenizer():
    """Lowercases (if asked), splits at whitespace and at each punctuation mark (dropped if
    asked) and puts MARK before each word; its byte-pair pieces are learnt later."""
    tokenizer = Tokenizer(models.BPE(unk_token={unknown}))
    if CONFIG["lowercase"]:
        tokenizer.normalizer = normalizers.Lowercase()
    punctuation = "removed" if CONFIG["strip_punctuation"] else "isolated"
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex({not_word}), punctuation),
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement=MARK, prepend_scheme="always", split=False),
    ])
    return tokenizer


TOKENIZER = subword_tokenizer()


def learn_pieces(texts):
    """Byte-pair pieces from the training texts only: characters, then the most frequent
    pair of neighbouring pieces merged into one, again and again, until there are
    max_tokens of them (padding and unknown included)."""
    trainer = trainers.BpeTrainer(vocab_size=CONFIG["max_tokens"],
                                  special_tokens=[{pad}, {unknown}], show_progress=False)
    TOKENIZER.train_from_iterator([cleaned(t) for t in texts], trainer)


def tokenize(text):
    """The text's pieces, each that continues a word marked: "hel", "{continues}lo"."""
    pieces = TOKENIZER.encode(cleaned(text)).tokens
    return [(p[1:] or p) if p.startswith(MARK) else {continues_literal} + p for p in pieces]'''

LEARN = "    learn_pieces(train[TEXT_COLUMN])  # subword pieces: from the training texts only\n"
IMPORT = "from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers\n"


@dataclass(frozen=True)
class TokenCode:
    """What the script holds to cut texts: its `tokenize` (and what that needs), and for
    subwords the line of `main` that learns the pieces and the import of `tokenizers`."""

    functions: str
    learn: str = ""
    imports: str = ""


def _literal(text: str) -> str:
    """A string as the script writes it: double quotes, "▁" as itself."""
    return json.dumps(text, ensure_ascii=False)


def token_code(tokens: str) -> TokenCode:
    if tokens != subwords.SUBWORDS:
        return TokenCode(WORDS)
    functions = SUBWORDS.format(
        mark=_literal(subwords.MARK),
        unknown=_literal(subwords.UNKNOWN),
        pad=_literal(subwords.PAD),
        not_word=_literal(subwords.NOT_WORD),
        continues=subwords.CONTINUES,
        continues_literal=_literal(subwords.CONTINUES),
    )
    return TokenCode(functions, LEARN, IMPORT)
