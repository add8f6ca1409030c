"""The bench's encoder-decoder mode in a real browser with no network: the decoder steps one output at a
time (the alignment heatmap gains a row per step), the panels read the API's numbers, bad input shows the
API's sentence in the page's language, and no console errors. Screenshots under artifacts/."""

from __future__ import annotations

import json
import time
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


def _api_trace(server: str, **knobs) -> dict:
    with urllib.request.urlopen(f"{server}/api/seq2seq/trace?{urlencode(knobs)}", timeout=30) as r:
        return json.loads(r.read())


def test_ab_puts_the_plain_model_beside_attention_and_space_plays_both(server, new_page):
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(s2s_url(server, checkpoint="seq2seq-reverse-attention", source="bottleneck", lang="ko", speed=20))
    wait_ready(page)
    page.click("#ab-toggle")
    wait_ready(page)
    assert page.evaluate("window.unrolledBench.traceB.meta.checkpoint") == "seq2seq-reverse-plain"
    assert page.evaluate("window.unrolledBench.figures")["alignment"] == ["a", "b"]
    assert page.locator("#plot-alignment-b").is_visible() and page.locator("#knob-b-checkpoint").is_visible()
    assert "ab=1" in page.url and "b.checkpoint=seq2seq-reverse-plain" in page.url
    T = page.evaluate("window.unrolledBench.T")
    press(page, "Home")
    press(page, "Space")
    page.wait_for_function(f"() => !window.unrolledBench.playing && window.unrolledBench.view.step === {T}")
    page.wait_for_function("() => window.unrolledBench.ready")
    b = _api_trace(server, checkpoint="seq2seq-reverse-plain", source="bottleneck", teacher_forcing="false")
    probs_b = page.evaluate("document.getElementById('plot-seq2seq-probs-b').data[0].y")
    assert probs_b == b["steps"][T - 1]["probs"]
    ctx_b = page.evaluate("document.getElementById('plot-context-b').data[0].y")
    assert ctx_b == b["steps"][T - 1]["context"]
    assert "어텐션이 없으면" in page.locator("#describe-alignment-b").inner_text()  # B: one context vector, no weights
    status = page.locator("#status").inner_text()
    assert f"출력 {T}/{T}" in status and f"B: 예측 {b['predicted']}" in status
    shot(page, "seq2seq-bench-ab-ko-1280")
    # B's own knob: teacher forcing on side B only
    page.check("#knob-b-teacher_forcing")
    page.wait_for_function("() => window.unrolledBench.traceB && window.unrolledBench.traceB.meta"
                           " && window.unrolledBench.traceB.meta.teacher_forcing === true")
    wait_ready(page)
    assert "b.teacher_forcing=true" in page.url
    assert page.evaluate("window.unrolledBench.trace.meta.teacher_forcing") is False
    # the address reopens A/B as it was
    page.goto(page.url)
    wait_ready(page)
    assert page.evaluate("window.unrolledBench.ab") == {"on": True, "overrides": {
        "checkpoint": "seq2seq-reverse-plain", "teacher_forcing": "true"}}
    assert page.evaluate("window.unrolledBench.view.step") == T
    page.click("#ab-toggle")
    assert page.locator("#plot-alignment-b").is_hidden() and "ab=1" not in page.url
    assert log.console_errors() == []


def test_ab_on_a_phone_keeps_the_page_inside_the_screen(server, new_page):
    page, log = new_page(locale="ko-KR", width=390, height=844)
    page.goto(s2s_url(server, checkpoint="seq2seq-reverse-attention", source="attention", lang="ko", ab=1))
    wait_ready(page)
    assert page.evaluate("window.unrolledBench.traceB.meta.checkpoint") == "seq2seq-reverse-plain"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "seq2seq-bench-ab-ko-390")
    assert log.console_errors() == []


def test_the_exports_download_the_trace_as_json_and_csv(server, new_page):
    page, log = new_page(locale="en-US")
    page.goto(s2s_url(server, checkpoint="seq2seq-swap-attention", source="abcdef", lang="en"))
    wait_ready(page)
    with page.expect_download() as got:
        page.click("#export-json")
    download = got.value
    assert download.suggested_filename == "unrolled-seq2seq-swap-attention-abcdef.json"
    saved = json.loads(open(download.path(), encoding="utf-8").read())
    assert saved == _api_trace(server, checkpoint="seq2seq-swap-attention", source="abcdef", teacher_forcing="false")
    assert saved["steps"] == page.evaluate("window.unrolledBench.trace.steps")
    with page.expect_download() as got:
        page.click("#export-csv")
    lines = open(got.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("i,input,target,chosen") and len(lines) == 1 + saved["T"]
    assert log.console_errors() == []


def test_a_paused_reverse_run_of_the_lab_opens_in_the_seq2seq_bench(server, new_page):
    body = json.dumps({"task": "reverse", "seq_len": 5, "arch": "seq2seq", "hidden_size": 16, "steps": 20000,
                       "batch": 16, "lr": 3e-3, "attention": True}).encode()
    request = urllib.request.Request(f"{server}/api/runs", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        run_id = json.loads(r.read())["id"]
    for _ in range(600):  # the run's first steps (a few ms each)
        with urllib.request.urlopen(f"{server}/api/runs/{run_id}", timeout=10) as r:
            if json.loads(r.read())["step"] >= 3:
                break
        time.sleep(0.05)
    pause = urllib.request.Request(f"{server}/api/runs/{run_id}/pause", data=b"", method="POST")
    urllib.request.urlopen(pause, timeout=30).close()
    with urllib.request.urlopen(f"{server}/api/runs/{run_id}", timeout=10) as r:
        summary = json.loads(r.read())
    assert summary["status"] == "paused"
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(f"{server}{summary['bench_url']}&lang=ko")
    wait_ready(page)
    assert page.locator('select[name="checkpoint"]').input_value() == f"run:{run_id}"
    meta = page.evaluate("window.unrolledBench.trace.meta")
    assert meta["checkpoint"] == f"run:{run_id}@{summary['step']}" and meta["attention"] is True
    press(page, "End")
    assert page.evaluate(FILLED_ROWS) == page.evaluate("window.unrolledBench.T") == len(meta["source"]) + 1
    shot(page, "seq2seq-bench-lab-run-ko-1280")
    urllib.request.urlopen(urllib.request.Request(f"{server}/api/runs/{run_id}/stop", data=b"", method="POST"),
                           timeout=30).close()
    assert log.console_errors() == []
