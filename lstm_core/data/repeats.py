"""Texts that repeat (retweets, forwarded messages), and a split that keeps them together.

Public tweet files repeat many of their texts: the three-class political tweet file repeats
3,469 of its 13,871. A text on both sides of a split makes the held-out score partly memory
(the Errors page found 743 of 910 misclassified held-out texts among the training texts),
so a run keeps every repeat of a text on one side of each split. Two texts repeat each
other when they read the same once normalised (`normalised`): the same retweet comes with
another short link, another case or other spacing each time.

`normalised`, `repeat_groups` and `grouped_split` use only `re`, `unicodedata` and NumPy:
the exported script carries their source, so it splits its file exactly as the run did.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from lstm_core.domain.wording import counted

LINK = re.compile(r"(?:https?://|www\.)\S+")  # https://t.co/abc, www.example.org/page


def normalised(text):
    """`text` as compared for repeats: Unicode NFKC, case folded, links dropped, runs of
    whitespace made one space, stripped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(LINK.sub(" ", text).split())


def repeat_groups(texts):
    """Each text's group, numbered in order of first appearance: texts that read the same
    once normalised share one. A text with nothing left (a link alone) is a group of its own."""
    numbers = {}
    groups = np.empty(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        groups[row] = numbers.setdefault(normalised(str(text)) or row, len(numbers))
    return groups


def grouped_split(groups, labels, test_size, seed):
    """(training rows, test rows) with each group wholly on one side and about `test_size`
    of each class's rows in the test rows; None when a class has fewer than two groups, so
    cannot be on both sides. A group counts for its most common label (a tie: the first in
    sorted order); each class's groups are visited in a seeded random order, and each one
    that still fits in that class's share goes to the test rows (at least one does)."""
    classes, codes = np.unique(labels, return_inverse=True)
    _, groups = np.unique(groups, return_inverse=True)
    counts = np.zeros((groups.max() + 1, len(classes)), dtype=np.int64)
    np.add.at(counts, (groups, codes), 1)
    sizes, group_class = counts.sum(axis=1), counts.argmax(axis=1)
    rng = np.random.default_rng(seed)
    in_test = np.zeros(len(sizes), dtype=bool)
    for label in range(len(classes)):
        members = rng.permutation(np.flatnonzero(group_class == label))
        if len(members) < 2:
            return None
        share, taken = round(test_size * sizes[members].sum()), 0
        for group in members:
            if taken + sizes[group] <= share:
                in_test[group], taken = True, taken + sizes[group]
        if not taken:  # every group is larger than the share: the smallest one goes
            in_test[members[np.argmin(sizes[members])]] = True
    test = in_test[groups]
    return np.flatnonzero(~test), np.flatnonzero(test)


@dataclass(frozen=True)
class RepeatSummary:
    """How much a set of texts repeats itself, as the Data page says it."""

    rows: int
    repeats: int  # rows whose text an earlier row already holds
    repeated_texts: int  # distinct texts that more than one row holds
    largest: int  # rows holding the most repeated text (1: nothing repeats)

    def describe(self) -> str:
        """'3,469 texts repeat an earlier one (...)' and what a split does with them; '' when
        no text repeats."""
        if not self.repeats:
            return ""
        one = self.repeated_texts == 1
        return (
            f"{counted(self.repeats, 'text')} {'repeats' if self.repeats == 1 else 'repeat'} "
            f"an earlier one (case, spacing and links aside: "
            f"{counted(self.repeated_texts, 'distinct text')} {'occurs' if one else 'occur'} "
            f"more than once, {'it' if one else 'the commonest'} {self.largest:,} times); "
            "repeats are kept together when splitting, so no held-out text was seen in training."
        )


def repeat_summary(texts) -> RepeatSummary:
    groups = repeat_groups(texts)
    sizes = np.bincount(groups) if len(groups) else np.zeros(0, dtype=np.int64)
    return RepeatSummary(
        rows=len(groups),
        repeats=int(len(groups) - len(sizes)),
        repeated_texts=int(np.count_nonzero(sizes > 1)),
        largest=int(sizes.max(initial=1)),
    )
