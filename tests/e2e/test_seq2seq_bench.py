"""The bench's encoder-decoder mode in a real browser with no network: the decoder steps one output at a
time (the alignment heatmap gains a row per step), the panels read the API's numbers, bad input shows the
API's sentence in the page's language, and no console errors. Screenshots under artifacts/."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlencode

from tests.e2e.helpers import press, shot, wait_ready

FILLED_ROWS = """() => document.getElementById('plot-alignment').data[0].z
                   .filter((row) => row.some((v) => v !== null)).length"""


def s2s_url(server: str, **knobs) -> str:
    return f"{server}/bench?{urlencode({'mode': 'seq2seq', **knobs})}"


def test_the_decoder_steps_one_output_at_a_time_on_the_api_numbers(server, new_page):
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(s2s_url(server, checkpoint="seq2seq-reverse-attention", source="attention", lang="ko"))
    wait_ready(page)
    T = page.evaluate("window.unrolledBench.T")
    assert T == len("attention") + 1
    assert page.evaluate(FILLED_ROWS) == 1
    press(page, "ArrowRight", 3)
    assert page.evaluate("window.unrolledBench.view.step") == 4 and page.evaluate(FILLED_ROWS) == 4
    body = json.dumps({"checkpoint": "seq2seq-reverse-attention", "source": "attention", "teacher_forcing": False})
    request = urllib.request.Request(f"{server}/api/seq2seq/trace", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        api = json.loads(r.read())
    z = page.evaluate("document.getElementById('plot-alignment').data[0].z")
    for i in range(4):
        assert z[i] == api["steps"][i]["weights"]
    bars = page.evaluate("document.getElementById('plot-seq2seq-probs').data[0].y")
    assert bars == api["steps"][3]["probs"]
    ctx = page.evaluate("document.getElementById('plot-context').data[0].y")
    assert ctx == api["steps"][3]["context"]
    assert "출력 4/10" in page.locator("#status").inner_text()
    acc = page.evaluate("document.getElementById('plot-accuracy-length').data.map((d) => d.y.length)")
    assert acc == [12, 12]
    press(page, "End")
    assert page.evaluate(FILLED_ROWS) == T
    shot(page, "seq2seq-bench-ko-1280")
    press(page, "ArrowLeft")
    assert page.evaluate("window.unrolledBench.view.step") == T - 1
    assert log.console_errors() == []


def test_without_attention_the_context_is_flat_and_the_phone_layout_holds(server, new_page):
    page, log = new_page(locale="en-US", width=390, height=844)
    page.goto(s2s_url(server, checkpoint="seq2seq-reverse-plain", source="sequencetosequence", lang="en",
                      teacher_forcing="true"))
    wait_ready(page)
    norms = page.evaluate("document.getElementById('plot-context').data[1].y")
    assert len(set(norms)) == 1 and len(norms) == len("sequencetosequence") + 1
    assert "no weights" in page.locator("#describe-alignment").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "seq2seq-bench-en-390")
    assert log.console_errors() == []


def test_bad_input_shows_the_apis_sentence_in_the_page_language(server, new_page):
    page, log = new_page(locale="ko-KR")
    page.goto(s2s_url(server, source="Hello", lang="ko"))
    page.wait_for_function("() => document.getElementById('bench-s2s').dataset.state === 'error'")
    text = page.locator("#message").inner_text()
    assert "입력 글자열" in text and "a-z" in text
    assert [e for e in log.console_errors() if "422" not in e] == []


def test_a_lesson_figure_opens_in_the_bench_at_its_step(server, new_page):
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(f"{server}/lessons/11-seq2seq-attention?lang=ko")
    page.wait_for_function("() => window.unrolledLesson && window.unrolledLesson.figures.get('reverse')"
                           " && window.unrolledLesson.figures.get('reverse').done()")
    link = page.locator('[data-figure="reverse"] [data-bench]')
    assert link.is_visible()
    href = link.get_attribute("href")
    assert "mode=seq2seq" in href and "checkpoint=seq2seq-reverse-attention" in href and "source=attention" in href
    page.goto(server + href)
    wait_ready(page)
    assert page.evaluate("window.unrolledBench.view.step") == 1
    assert page.locator('select[name="checkpoint"]').input_value() == "seq2seq-reverse-attention"
    assert not page.locator('input[name="teacher_forcing"]').is_checked()
    assert log.console_errors() == []
