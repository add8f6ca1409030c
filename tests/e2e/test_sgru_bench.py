"""The simplified GRU on the bench in chromium: its two gates, its equations checked against the trace, its
backward phase (the engine's numbers are tested in tests/app/test_sgru_api.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.e2e.helpers import ARTIFACTS, press, settle, wait_ready

TEXT = "the cat sat on the mat"


def test_the_bench_steps_the_simplified_gru_with_its_equations(server, new_page):
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(f"{server}/bench?{urlencode(dict(arch='sgru', text=TEXT, hidden_size=8, step=5, lang='ko'))}")
    wait_ready(page)
    assert page.evaluate("document.getElementById('plot-gates').data.map(d => d.meta)") == ["u", "n"]
    page.locator("#panel-equation").scroll_into_view_if_needed()  # the weights come when it is near
    page.wait_for_function("() => document.querySelectorAll('#plot-equation .eq-row').length === 3")
    assert page.locator("#plot-equation .eq-check.ok").count() == 3  # u n h: computed from params = trace
    press(page, "b")
    press(page, "ArrowRight", 3)
    settle(page)
    assert page.evaluate("document.getElementById('plot-grad-flow').data.length") > 0
    page.screenshot(path=str(ARTIFACTS / "bench-sgru-ko.png"), full_page=True)
    assert log.console_errors() == []
