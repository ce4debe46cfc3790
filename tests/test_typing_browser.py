"""Predict while typing, in a real browser: each typed sentence's label appears, the
model's own label for it, without pressing Enter, on Predict and behind a demo link. The latency from the last keystroke is
written to test-artifacts/typing/ as a figure (bench/typing_latency.py measures it)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser import (
    alternating_sentences,
    chromium,
    dashboard,
    require_browser,
    typed_label_latencies,
)
from conftest import ROOT, TINY, toy_spam_run, toy_texts

from lstm_core.api import Engine

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts" / "typing"


def test_typed_sentences_get_the_models_labels_as_the_typing_pauses(tmp_path):
    require_browser()
    engine = Engine(tmp_path / "ws")
    run = toy_spam_run(engine, {**TINY, "epochs": 3})
    texts, _ = toy_texts()  # one class, then the other: shuffled, so labels can alternate
    texts = texts[np.random.default_rng(0).permutation(len(texts))]
    sentences, labels = alternating_sentences(lambda batch: engine.predict(run.id, batch), texts, 7)

    with dashboard(tmp_path / "ws", ARTIFACTS / "server.log") as url, chromium() as new_tab:
        page = new_tab()
        page.goto(f"{url}/predict?run={run.id}")
        typed_label_latencies(page, sentences[:1], labels[:1])  # the model loads
        seconds = typed_label_latencies(page, sentences[1:], labels[1:])
        assert page.get_by_text("Traceback").count() == 0
        page.screenshot(path=str(ARTIFACTS / "typed.png"), full_page=True)

        demo = new_tab()  # the same model behind a demo link, for an audience
        demo.goto(f"{url}/?demo={run.id}")
        typed_label_latencies(demo, sentences[:3], labels[:3])
        assert demo.locator('[data-testid="stSidebar"]').count() == 0, "no navigation"
        leaving = demo.evaluate(
            "() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"
            ".filter(h => !h.startsWith('#'))"
        )
        assert leaving == [], f"no way to the other pages: {leaving}"
        assert demo.get_by_text("Traceback").count() == 0
        demo.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    ms = np.array(seconds) * 1000
    figures = {
        "sentences": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
    }
    (ARTIFACTS / "latency.json").write_text(json.dumps(figures, indent=2))
    print("\nlast keystroke to label (ms):", json.dumps(figures))
