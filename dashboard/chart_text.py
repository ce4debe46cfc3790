"""Text from a person's file (labels, tokens, names) as Plotly chart text.

Plotly draws a subset of HTML in titles, ticks, legends and hover text, and the browser
obeys bidirectional controls: a label "\\u202eevil" shows as "live". Every such text goes
through `plain` (titles, legends) or `chart_labels` (ticks, with the whole text for hover).
Plain Python, no Streamlit, so the pages' figure builders can be tested without a server.
It lives beside widgets.py, not in `lstm_core`, because the pages reach the engine only
through `lstm_core.api`.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks LRM, RLM
# and ALM: each can move the characters around it.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LABEL_CHARS = 30  # longer labels squeeze a chart's plot area to a sliver
HOVER_CHARS = 60  # a hover box is one line per line of text, however wide the chart


class ChartLabels(NamedTuple):
    ticks: list[str]  # short enough for an axis or a legend, one per distinct text
    hover: list[str]  # whole, in lines of at most HOVER_CHARS characters


def plain(text: object) -> str:
    """`text` safe in a Plotly chart: HTML shows as typed, bidi controls are dropped."""
    return _escaped(BIDI_CONTROLS.sub("", str(text)))


def chart_labels(texts: Iterable[object], width: int = LABEL_CHARS) -> ChartLabels:
    """Tick labels for `texts`, cut past `width` characters with an ellipsis, and the whole
    texts for hover, wrapped; HTML shows as typed and bidi controls are dropped in both.

    Different texts keep different ticks (a chart's categories merge equal ones): texts that
    came out equal to another's tick (cut, or told apart only by bidi controls) are numbered.
    """
    strings = [str(text) for text in texts]
    shown = {text: _cut(BIDI_CONTROLS.sub("", text), width) for text in strings}
    sharing = Counter(shown.values())
    taken = set(shown.values())
    numbered: Counter[str] = Counter()
    for text, short in shown.items():
        if short != text and sharing[short] > 1:
            numbered[short] += 1
            while (tick := f"{short} ({numbered[short]})") in taken:
                numbered[short] += 1
            shown[text] = tick
            taken.add(tick)
    return ChartLabels([_escaped(shown[s]) for s in strings], [_hover(s) for s in strings])


def _escaped(text: str) -> str:
    return html.escape(text, quote=False)


def _hover(text: str) -> str:
    lines = textwrap.wrap(BIDI_CONTROLS.sub("", text), HOVER_CHARS) or [""]
    return "<br>".join(_escaped(line) for line in lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
