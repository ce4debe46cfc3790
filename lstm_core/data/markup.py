"""HTML left in texts: found, counted and removed before tokenizing.

Scraped texts keep their markup (every other IMDB review holds `<br /><br />`): each tag
becomes words nobody wrote ("br" is among the commonest tokens there) and lengthens every
text, so the 'auto' length grows with it. The patterns match the shapes of real tags and
character entities only, so `a < b and c > d`, `<3` or `AT&T` stay as they are. Pure
Python: the Data page and the vectorizer use it without pandas or TensorFlow.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# A share of texts with tags from which stripping markup is the default (a stray `<b>` in a
# few texts is not worth a different tokenization). Entities alone never make it the
# default: tokenizing drops their `&` and `;` anyway, and spam.csv's `&lt;#&gt;` (6% of its
# texts, a placeholder for a number) is the data, not page markup.
STRIP_SHARE = 0.05
# A comment, or a tag: `<` or `</` right before a letter, attributes (`href="..."`, `x=1`,
# `disabled`) and an optional `/` before `>`. A space or a digit after `<` is no tag.
TAG_PATTERN = (
    r"<!--.*?-->"
    r"|</?[A-Za-z][A-Za-z0-9:-]*"
    r"(?:\s+[^\s<>\"'=/]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>\"'=`]+))?)*"
    r"\s*/?>"
)
# `&amp;`, `&#39;`, `&#x27;`; a name only counts when `html.unescape` knows it.
ENTITY_PATTERN = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
_TAG = re.compile(TAG_PATTERN, re.DOTALL)
_ENTITY = re.compile(ENTITY_PATTERN)
_EXAMPLE_CHARS = 30


@dataclass(frozen=True)
class MarkupShare:
    """How many of a data set's texts hold HTML, and the markup seen most often."""

    texts: int
    with_markup: int
    example: str  # the commonest tag or entity ("<br />"); "" when there is none
    with_tags: int = 0  # texts holding a tag (not only entities)

    @property
    def share(self) -> float:
        return self.with_markup / self.texts if self.texts else 0.0

    @property
    def suggest_strip(self) -> bool:
        """Whether stripping markup should be the default for this data: `STRIP_SHARE` of
        its texts hold a tag."""
        return bool(self.texts) and self.with_tags / self.texts >= STRIP_SHARE

    def describe(self) -> str:
        """'31% of texts hold HTML tags or entities such as <br />' (unescaped text)."""
        if not self.with_markup:
            return "No text holds HTML tags or entities"
        share = f"{self.share:.0%}" if self.share >= 0.01 else "under 1%"
        return (
            f"{share} of texts ({self.with_markup:,} of {self.texts:,}) hold HTML tags or "
            f"entities such as {self.example}"
        )


def _first_markup(text: str) -> str:
    """The first tag or known entity in `text`, or ''."""
    entities = (m for m in _ENTITY.finditer(text) if html.unescape(m.group()) != m.group())
    found = [m for m in (_TAG.search(text), next(entities, None)) if m is not None]
    return min(found, key=lambda m: m.start()).group() if found else ""


def has_markup(text: str) -> bool:
    """Does `text` hold an HTML tag or a character entity?"""
    return bool(_first_markup(text))


def strip_markup(text: str) -> str:
    """Entities unescaped (so an escaped `&lt;br&gt;` is a tag too), then each tag replaced
    by a space, so the words on either side of `<br />` stay apart."""
    text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return _TAG.sub(" ", text)


def markup_share(texts: Iterable[object]) -> MarkupShare:
    """The share of non-empty texts holding markup; a missing cell (None, NaN) is no text."""
    counted, tagged, examples = 0, 0, Counter()
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            continue
        counted += 1
        tagged += bool(_TAG.search(text))
        if found := _first_markup(text):  # a long `<a href=...>` shown cut
            examples[found[:_EXAMPLE_CHARS] + ("…" if len(found) > _EXAMPLE_CHARS else "")] += 1
    example = examples.most_common(1)[0][0] if examples else ""
    return MarkupShare(counted, examples.total(), example, tagged)
