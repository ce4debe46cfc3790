"""Labels from a person's file in the dashboard's charts: bidi controls cannot reorder them,
long ones are cut on the axes (whole on hover), and different labels stay different."""

from __future__ import annotations

from dashboard.chart_text import HOVER_CHARS, LABEL_CHARS, chart_labels, plain
from dashboard.widgets import confusion_heatmap

EVIL = "\u202eevil"  # shown as "live" where the override is obeyed
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
LONG = "a rather long class name that goes on " * 8  # about 300 characters


def unwrapped(hover: str) -> str:
    assert all(len(line) <= HOVER_CHARS for line in hover.split("<br>")), hover
    return hover.replace("<br>", " ")


def test_chart_labels_drop_bidi_controls_and_cut_long_labels_apart():
    labels = [EVIL, f"sp{BIDI}am", LONG + "one", LONG + "two", "<b>x</b>"]
    ticks, hover = chart_labels(labels)
    assert ticks[:2] == hover[:2] == ["evil", "spam"]
    assert not any(c in BIDI for text in ticks + hover for c in text)
    assert [unwrapped(h) for h in hover[2:4]] == [LONG + "one", LONG + "two"], "whole on hover"
    assert len(set(ticks)) == len(labels), "labels sharing a long prefix stay distinct"
    assert all(len(t) <= LABEL_CHARS + 4 and t.startswith(LONG[:20]) for t in ticks[2:4])
    assert "…" in ticks[2]
    assert ticks[4] == hover[4] == "&lt;b&gt;x&lt;/b&gt;", "Plotly's HTML shows as typed"
    assert chart_labels([LONG, LONG]).ticks[0] == chart_labels([LONG, LONG]).ticks[1]
    assert plain(f"{EVIL} <i>") == "evil &lt;i&gt;"


def test_a_label_never_takes_the_tick_of_another():
    short = chart_labels([LONG]).ticks[0]
    ticks, _ = chart_labels([LONG, short])
    assert ticks[1] == short and ticks[0] != short
    assert chart_labels(["evil", EVIL]).ticks == ["evil", "evil (1)"]


def test_the_confusion_matrix_cuts_long_labels_and_shows_them_whole_on_hover():
    labels = [LONG + "one", LONG + "two", EVIL]
    figure = confusion_heatmap([[3, 1, 0], [0, 4, 1], [2, 0, 5]], labels, f"run {EVIL}")
    (heatmap,) = figure.data
    assert list(heatmap.x) == list(heatmap.y) == chart_labels(labels).ticks
    assert len(set(heatmap.x)) == 3 and all(len(t) <= LABEL_CHARS + 4 for t in heatmap.x)
    assert heatmap.x[2] == "evil"
    assert [[unwrapped(text) for text in cell] for cell in heatmap.customdata[1]] == [
        [LONG + "two", LONG + "one"],
        [LONG + "two", LONG + "two"],
        [LONG + "two", "evil"],
    ], "each cell's true and predicted labels, whole"
    assert "%{customdata[0]}" in heatmap.hovertemplate
    assert "%{customdata[1]}" in heatmap.hovertemplate
    assert figure.layout.xaxis.type == figure.layout.yaxis.type == "category"
    assert figure.layout.title.text == "run evil"
    short = confusion_heatmap([[1, 0], [0, 1]], ["ham", "spam"])
    assert figure.layout.height > short.layout.height, "room below for upright labels"
