"""The bench in a real browser with no network: stepping, phases, cuts, the Transformer, permalinks,
bad knobs, exports, languages, the views lessons use (gradient from one loss, the BPTT terms, the
equations) and exploding gradients. Each test leaves a screenshot under artifacts/."""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.e2e.helpers import ARTIFACTS, press, settle, shot, wait_ready

TEXT = "hello, hello world"

# every text drawn on the cell strip, as annotations (short texts) or as text of its traces (long texts)
STRIP_TEXTS = """() => {
  const gd = document.getElementById('plot-strip');
  const texts = (gd.layout.annotations || []).map((a) => a.text);
  for (const d of gd.data) if (Array.isArray(d.text) && String(d.mode).includes('text')) texts.push(...d.text);
  return texts;
}"""

FILLED_COLUMNS = """(id) => {
  const z = document.getElementById(id).data[0].z;
  let n = 0;
  for (let t = 0; t < z[0].length; t++) if (z.some((row) => row[t] !== null)) n++;
  return n;
}"""

# x positions of the truncation cuts drawn on a plot: dashed lines in the cut colour, between s-1 and s
CUTS_DRAWN = """(id) => {
  const cut = getComputedStyle(document.documentElement).getPropertyValue('--c-cut').trim();
  return (document.getElementById(id).layout.shapes || [])
    .filter((s) => s.type === 'line' && s.line.color === cut).map((s) => s.x0 + 0.5);
}"""

TRACE_BY_META = "([id, meta]) => document.getElementById(id).data.find((d) => d.meta === meta) || null"


def bench_url(server: str, **knobs) -> str:
    return f"{server}/bench?{urlencode(knobs)}"


def visible(page, panel: str) -> bool:
    return page.locator(f"#panel-{panel}").is_visible()


def series(page, plot: str, meta: str):
    return page.evaluate(TRACE_BY_META, [f"plot-{plot}", meta])


def test_keyboard_steps_fill_five_hidden_state_columns(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=16))
    wait_ready(page)
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 0
    press(page, "ArrowRight", 5)
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 5
    # the gate heatmaps fill in step with h, the cell strip highlights step 4, the status names the input
    assert page.evaluate("document.getElementById('plot-gates').data.map(d => d.meta)") == ["i", "f", "g", "o", "c"]
    gates = page.evaluate("document.getElementById('plot-gates').data.map(d => [d.z[0][4], d.z[0][5]])")
    assert all(at4 is not None and at5 is None for at4, at5 in gates)
    assert "5/18" in page.locator("#status").inner_text()
    # the next-character panel marks the true next character of step 4 ("o" -> ",")
    outlined = page.evaluate("document.getElementById('plot-probs').data[0].marker.line.width.indexOf(4)")
    vocab = page.evaluate("window.unrolledBench.trace.meta.vocab")
    assert vocab[outlined] == ","
    # each figure says what the step shows, in one line under the plot
    assert "Step 4 ‘o’" in page.locator("#describe-probs").inner_text()
    assert page.locator("#describe-hidden").get_attribute("aria-live") == "polite"
    press(page, "ArrowLeft")
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 4
    assert "step=4" in page.url
    shot(page, "bench-forward-lstm")
    assert log.console_errors() == []


def test_backward_phase_shows_the_gradient_plots(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="rnn", text=TEXT, hidden_size=16))
    wait_ready(page)
    backward_panels = ("grad-norm", "grad-one-loss", "grad-flow", "bptt-terms", "jacobian", "clip")
    assert not any(visible(page, p) for p in backward_panels)
    press(page, "b")
    assert page.locator("#bench").get_attribute("data-phase") == "backward"
    assert all(visible(page, p) for p in backward_panels)
    press(page, "ArrowRight", 4)
    T = page.evaluate("window.unrolledBench.T")
    # ||dL/dh_t|| on a log axis, shown for exactly the four steps reached, with the numbers from the stream
    assert page.evaluate("document.getElementById('plot-grad-norm').layout.yaxis.type") == "log"
    grad = series(page, "grad-norm", "grad_h")
    shown = [(t, y) for t, y in zip(grad["x"], grad["y"], strict=True) if y is not None]
    streamed = page.evaluate("window.unrolledBench.trace.back.map(b => b.grad_h[b.grad_h.length - 1])")
    assert shown and all(T - 4 <= t < T for t, _ in shown)
    assert all(abs(y - streamed[t]) <= 1e-9 * abs(streamed[t]) for t, y in shown)
    # the Elman RNN draws the Pascanu bound over it, never below the gradient
    bound = series(page, "grad-norm", "bound")
    assert bound is not None
    for t, y in shown:
        assert bound["y"][t] is None or bound["y"][t] >= y * (1 - 1e-6)
    # the gradient-flow matrix fills the columns reached; the Jacobian plot has the line at 1
    assert page.evaluate(FILLED_COLUMNS, "plot-grad-flow") >= 3
    assert series(page, "jacobian", "one")["y"] == [1, 1]
    # the two terms of the BPTT step arrive with the steps: own loss and carried from the future
    local, future = series(page, "bptt-terms", "local"), series(page, "bptt-terms", "future")
    assert future is not None and page.locator("#note-bptt-terms").is_hidden()
    assert sum(v is not None for v in local["y"]) >= 3 and all(v is None for v in future["y"][: T - 4])
    # the clip panel appears with its bars once the backward pass reaches t = 0
    press(page, "End")
    bars = page.evaluate("document.getElementById('plot-clip').data.map(d => d.y.length)")
    assert len(bars) == 2 and bars[0] == bars[1] > 1
    shot(page, "bench-backward-rnn")
    # the same physical key with a Korean layout types "ㅠ": it still switches the phase
    page.evaluate("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ㅠ', code: 'KeyB', bubbles: true}))")
    settle(page)
    assert page.locator("#bench").get_attribute("data-phase") == "forward"
    assert not visible(page, "grad-norm")
    assert log.console_errors() == []


def test_clicking_a_row_of_the_gradient_flow_matrix_picks_the_loss(server, new_page):
    page, log = new_page()
    text = "the quick brown fox"
    page.goto(bench_url(server, arch="rnn", text=text, hidden_size=16, phase="backward", bstep=len(text)))
    wait_ready(page)
    T = len(text)
    grad = series(page, "grad-one-loss", "grad")  # the last loss by default
    assert grad["name"].startswith("‖∂L") and sum(v is not None for v in grad["y"]) == T - 1
    # the theory line ||dL_t/dh_t|| (gamma sigma_max)^(t-s) from the summary's Pascanu numbers
    summary = page.evaluate("window.unrolledBench.trace.summary")
    G, eta = summary["grad_flow"], summary["pascanu"]["decay_bound"][-1]
    theory = series(page, "grad-one-loss", "theory")
    t = T - 2
    for s, y in enumerate(theory["y"]):
        if y is not None:
            assert math.isclose(y, G[t][t] * eta ** (t - s), rel_tol=1e-9)
    # click row 6 of the heatmap: the one-loss view follows, and the URL remembers it
    page.locator("#plot-grad-flow").scroll_into_view_if_needed()
    box = page.locator("#plot-grad-flow .nsewdrag").first.bounding_box()
    y6 = page.evaluate("""() => {
      const l = document.getElementById('plot-grad-flow')._fullLayout;
      return l.yaxis.l2p(6) + l.yaxis._offset;
    }""")
    page.mouse.click(box["x"] + box["width"] * 0.1, page.locator("#plot-grad-flow").bounding_box()["y"] + y6)
    page.wait_for_function("() => window.unrolledBench.view.loss === 6")
    settle(page)
    grad = series(page, "grad-one-loss", "grad")
    assert [i for i, v in enumerate(grad["y"]) if v is not None] == list(range(7))
    assert math.isclose(grad["y"][0], G[6][0], rel_tol=1e-9)
    assert "loss=6" in page.url
    assert "L₆" in page.locator("#describe-grad-flow").inner_text()
    page.locator("#panel-grad-one-loss").screenshot(path=str(ARTIFACTS / "panel-grad-one-loss.png"))
    assert log.console_errors() == []


def test_changing_truncation_moves_the_cuts_and_keeps_the_step(server, new_page):
    page, log = new_page()
    text = "the quick brown fox jumps over"
    page.goto(bench_url(server, arch="rnn", text=text, hidden_size=16, truncation=4, phase="backward", bstep=30))
    wait_ready(page)
    cuts4 = page.evaluate("window.unrolledBench.trace.summary.cuts")
    assert cuts4 and all(c % 4 == 0 for c in cuts4)
    for plot in ("grad-norm", "grad-flow", "grad-one-loss"):
        assert sorted(page.evaluate(CUTS_DRAWN, f"plot-{plot}")) == cuts4
    # what the cut costs: the angle between the truncated and the full parameter gradient, from the API
    note = page.locator("#note-grad-norm")
    assert note.is_visible() and "cos" in note.inner_text()
    cosine = page.evaluate("window.unrolledBench.trace.summary.truncated_vs_full.cosine")
    assert f"{cosine:.3f}" in note.inner_text()
    shot(page, "bench-truncation-4")
    press(page, "ArrowLeft", 5)  # back to bstep 25
    # change the knob in the form: htmx swaps the bench, the URL follows, the new trace streams in
    page.fill("#knob-truncation", "7")
    page.locator("#knob-truncation").press("Enter")
    page.wait_for_function("() => new URL(location.href).searchParams.get('truncation') === '7'")
    page.wait_for_function("() => window.unrolledBench.ready && window.unrolledBench.trace.summary.truncation === 7")
    # the view survived the swap: still backward, still 25 steps back
    assert page.evaluate("window.unrolledBench.view.phase") == "backward"
    assert page.evaluate("window.unrolledBench.view.bstep") == 25
    assert "bstep=25" in page.url
    # Enter handed the keys back: the arrows step instead of moving the caret in the field
    assert page.evaluate("document.activeElement.tagName") not in ("INPUT", "SELECT")
    page.keyboard.press("ArrowRight")
    settle(page)
    assert page.evaluate("window.unrolledBench.view.bstep") == 26
    press(page, "End")
    cuts7 = page.evaluate("window.unrolledBench.trace.summary.cuts")
    assert cuts7 != cuts4 and all(c % 7 == 0 for c in cuts7)
    assert sorted(page.evaluate(CUTS_DRAWN, "plot-grad-norm")) == cuts7
    # in the strip the arrows stop at each cut, marked with scissors
    assert page.evaluate(STRIP_TEXTS).count("✂") == len(cuts7)
    shot(page, "bench-truncation-7")
    assert log.console_errors() == []


def test_a_knob_change_keeps_the_forward_step_clamped_to_the_new_text(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="gru", text=TEXT, hidden_size=8))
    wait_ready(page)
    press(page, "ArrowRight", 7)
    page.select_option("#knob-arch", "lstm")
    page.wait_for_function("() => window.unrolledBench.arch === 'lstm' && window.unrolledBench.ready")
    assert page.evaluate("window.unrolledBench.view.step") == 7
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 7
    assert page.evaluate("document.activeElement.tagName") != "SELECT"  # the arrows step again
    press(page, "ArrowRight")
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 8
    # a shorter text: the step is clamped to its length, not reset to 0
    page.fill("#knob-text", "abcde")
    page.locator("#knob-text").press("Enter")
    page.wait_for_function("() => window.unrolledBench.ready && window.unrolledBench.T === 5")
    assert page.evaluate("window.unrolledBench.view.step") == 5
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 5
    assert "step=5" in page.url
    assert log.console_errors() == []


PARAMS_ASKED = "() => performance.getEntriesByType('resource').filter(r => r.name.includes('/api/trace/params')).length"


def test_the_weights_are_fetched_only_when_the_equation_panel_comes_near(server, new_page):
    """The first load skips the weights (~100 KB gzipped): the bench is ready with every visible figure
    drawn and the equation panel saying "loading"; scrolled near, the panel asks for them and fills in."""
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=8, step=5, lang="ko"))
    wait_ready(page)
    assert page.evaluate("document.getElementById('panel-equation').getBoundingClientRect().top") > 720 * 1.5
    settle(page)
    assert page.evaluate(PARAMS_ASKED) == 0
    assert page.evaluate("window.unrolledBench.trace.params") is None
    assert page.locator("#plot-equation .eq-wait").inner_text() == page.evaluate(
        "JSON.parse(document.getElementById('bench-config').textContent).i18n.eq_loading")
    page.locator("#panel-equation").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelectorAll('#plot-equation .eq-row').length === 6")
    wait_ready(page)
    assert page.evaluate(PARAMS_ASKED) == 1
    assert page.locator("#plot-equation .eq-check.ok").count() == 6
    # a knob change brings the bench back to the top: the new trace's weights wait for the panel again
    page.fill("#knob-text", "abcdefg")
    page.locator("#knob-text").press("Enter")
    page.wait_for_function("() => window.unrolledBench.ready && window.unrolledBench.T === 7")
    settle(page)
    if page.evaluate("document.getElementById('panel-equation').getBoundingClientRect().top") > 720 * 1.5:
        assert page.evaluate(PARAMS_ASKED) == 1
        page.locator("#panel-equation").scroll_into_view_if_needed()
    page.wait_for_function("() => window.unrolledBench.trace.params !== null && window.unrolledBench.ready")
    assert page.evaluate(PARAMS_ASKED) == 2
    assert page.locator("#plot-equation .eq-check.ok").count() == 6
    page.locator("#panel-equation").screenshot(path=str(ARTIFACTS / "panel-equation-lazy-ko.png"))
    assert log.console_errors() == []


def test_the_equation_panel_fills_in_the_numbers_of_the_trace(server, new_page):
    page, log = new_page(locale="ko-KR")
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=8, step=5, lang="ko"))
    wait_ready(page)
    page.locator("#panel-equation").scroll_into_view_if_needed()  # the weights come when it is near
    page.wait_for_function("() => document.querySelectorAll('#plot-equation .eq-row').length === 6")
    assert page.locator("#plot-equation .eq-check.ok").count() == 6  # i f g o c h: computed = trace
    trace_h = page.evaluate("window.unrolledBench.trace.steps[4].h[0][0]")
    shown_h = float(page.locator('#plot-equation .eq-row[data-name="h"] .eq-result').get_attribute("data-value"))
    assert abs(shown_h - trace_h) < 1e-5
    # the unit picker sets view.unit, then hands the keys back
    page.select_option("#plot-equation select[data-view='unit']", "3")
    page.wait_for_function("() => window.unrolledBench.view.unit === 3")
    settle(page)
    shown_h = float(page.locator('#plot-equation .eq-row[data-name="h"] .eq-result').get_attribute("data-value"))
    assert abs(shown_h - page.evaluate("window.unrolledBench.trace.steps[4].h[0][3]")) < 1e-5
    assert "unit=3" in page.url
    press(page, "ArrowRight")
    assert "스텝 t = 5" in page.locator("#plot-equation .eq-where").inner_text()
    # backward: the BPTT step with its two terms
    press(page, "b")
    press(page, "ArrowRight", 3)
    assert "∂L₁₅/∂h₁₅" in page.locator("#plot-equation").inner_text()  # T = 18, three steps back
    page.locator("#panel-equation").screenshot(path=str(ARTIFACTS / "panel-equation-ko.png"))
    assert log.console_errors() == []


def test_picking_the_transformer_shows_the_attention_heatmap(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="lstm", text=TEXT))
    wait_ready(page)
    assert not visible(page, "attention")
    page.select_option("#knob-arch", "transformer")
    page.wait_for_function("() => window.unrolledBench.arch === 'transformer' && window.unrolledBench.ready")
    assert "arch=transformer" in page.url
    assert visible(page, "attention") and visible(page, "positional")
    assert not visible(page, "hidden") and not visible(page, "gates") and not visible(page, "equation")
    press(page, "ArrowRight", 6)
    # row t of the heatmap is step t's attention over s <= t (a distribution), nothing after t
    rows = page.evaluate("document.getElementById('plot-attention').data[0].z.slice(0, 7)")
    for t, row in enumerate(rows[:6]):
        weights = row[: t + 1]
        assert all(w is not None for w in weights) and abs(sum(weights) - 1) < 1e-4
        assert all(w is None for w in row[t + 1:])
    assert all(w is None for w in rows[6])
    # another head is another matrix
    heads = page.evaluate("window.unrolledBench.trace.meta.knobs.heads")
    if heads > 1:
        before = page.evaluate("document.getElementById('plot-attention').data[0].z")
        page.select_option("#select-head", "1")
        settle(page)
        assert page.evaluate("document.getElementById('plot-attention').data[0].z") != before
        assert "head=1" in page.url
    assert page.evaluate("document.getElementById('plot-positional').data[0].z.length") > 0
    shot(page, "bench-transformer")
    assert log.console_errors() == []


def test_a_permalink_reproduces_the_same_view(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="gru", text=TEXT, hidden_size=24, layers=2, seed=3))
    wait_ready(page)
    page.select_option("#select-layer", "1")
    press(page, "ArrowRight", 9)
    press(page, "b")
    press(page, "ArrowRight", 3)
    link = page.url
    query = parse_qs(urlsplit(link).query)
    assert query["phase"] == ["backward"] and query["bstep"] == ["3"] and query["layer"] == ["1"]

    def view(p):
        return p.evaluate("""() => ({
          status: document.getElementById('status').innerText,
          hidden: document.getElementById('plot-hidden').data[0].z,
          gradNorm: document.getElementById('plot-grad-norm').data.map(d => d.y),
          strip: document.getElementById('plot-strip').layout.annotations.length,
          phase: document.getElementById('bench').dataset.phase,
          describe: [...document.querySelectorAll('.figure-describe')].map(e => e.textContent),
        })""")

    here = view(page)
    other, other_log = new_page()
    other.goto(link)
    wait_ready(other)
    settle(other)
    assert view(other) == here
    shot(page, "bench-permalink-original")
    shot(other, "bench-permalink-reopened")
    assert log.console_errors() == [] and other_log.console_errors() == []


def test_a_bad_knob_shows_the_api_message_on_the_page(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=100000))
    message = page.locator("#message")
    message.wait_for(state="visible", timeout=20_000)
    text = message.inner_text()
    assert "Hidden size" in text and "256" in text  # the field, by its label, and its limit
    assert page.locator("#message li").count() == 1
    assert not page.locator("#panels").is_visible()  # no empty frames under the message
    assert page.locator("#knob-hidden_size").get_attribute("aria-invalid") == "true"
    assert page.locator("#knobs").is_visible()  # never a blank page: the form is there to fix it
    shot(page, "bench-bad-knob")
    # a bad value typed into the form gets the same treatment; a good one clears it
    page.fill("#knob-hidden_size", "8")
    page.locator("#knob-hidden_size").press("Enter")
    page.wait_for_function("() => window.unrolledBench.ready")
    assert not page.locator("#message").is_visible()
    page.fill("#knob-text", "x")
    page.locator("#knob-text").press("Enter")
    page.locator("#message").wait_for(state="visible", timeout=20_000)
    assert "Input text" in page.locator("#message").inner_text()
    # a cross-knob rule the API checks itself (not a plain limit) comes through in its own words, once
    page.goto(bench_url(server, arch="gru", text=TEXT, layers=4))
    page.locator("#message").wait_for(state="visible", timeout=20_000)
    item = page.locator("#message li").inner_text()
    assert item.startswith("Layers: ") and item.lower().count("layers") <= 2 and "3" in item
    # in Korean, the message and the field's name are Korean
    ko, ko_log = new_page(locale="ko-KR")
    ko.goto(bench_url(server, arch="rnn", text=TEXT, layers=4, lang="ko"))
    ko.locator("#message").wait_for(state="visible", timeout=20_000)
    assert ko.locator("#message li").inner_text().startswith("층 수: ")
    # the form's hint gives the limit for this model, from the knob table
    assert "3" in ko.locator("#hint-layers").inner_text()
    assert log.errors == [] and ko_log.errors == []  # the refused stream is reported on the page, not thrown


def test_exploding_gradients_stay_readable(server, new_page):
    page, log = new_page()
    text = "abcdefghijklmnopqrstuvwxyz" * 2
    page.goto(bench_url(server, arch="rnn", activation="linear", spectral_norm=10, text=text, hidden_size=8))
    wait_ready(page)
    # one line names where inf starts, instead of listing every step
    banner = page.locator("#overflow-banner")
    assert banner.is_visible() and "⚠" in banner.inner_text()
    banner_text = banner.inner_text()
    assert "inf from step" in banner_text and len(re.findall(r"\d+", banner_text)) <= 2, banner_text
    press(page, "End")
    first = page.evaluate("window.unrolledBench.trace.steps.findIndex(s => s.overflow)")
    hidden_marks = page.evaluate("document.getElementById('plot-hidden').layout.annotations.map(a => a.text)")
    assert hidden_marks == [f"⚠ inf from step {first} on"]
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") >= first  # the finite steps before it stay drawn
    press(page, "b")
    press(page, "End")
    strip = page.evaluate(STRIP_TEXTS)
    assert sum("⚠" in str(t) for t in strip) == 1
    shot(page, "bench-overflow")
    # relu with sigma_max 3: the axis stays on the data; the Pascanu bound is clipped with a mark
    page.goto(bench_url(server, arch="rnn", activation="relu", spectral_norm=3, text=TEXT, hidden_size=16,
                        phase="backward", bstep=len(TEXT)))
    wait_ready(page)
    axis_top = page.evaluate("document.getElementById('plot-grad-norm').layout.yaxis.range[1]")
    grad = [y for y in series(page, "grad-norm", "grad_h")["y"] if y]
    assert axis_top < math.log10(max(grad)) + 0.5
    marks = series(page, "grad-norm", "bound-clipped")
    assert marks is not None and len(marks["x"]) == 1
    shot(page, "bench-exploding-relu")
    assert log.console_errors() == []


def test_exports_give_the_trace_csv_and_images(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=8, truncation=5))
    wait_ready(page)
    for anchor, kind in (("#export-json", "application/json"), ("#export-csv", "text/csv")):
        href = page.locator(anchor).get_attribute("href")
        assert "truncation=5" in href and "hidden_size=8" in href
        response = page.request.get(server + href)
        assert response.status == 200 and response.headers["content-type"].startswith(kind)
    trace = json.loads(page.request.get(server + page.locator("#export-json").get_attribute("href")).text())
    assert trace["vocab"] == page.evaluate("window.unrolledBench.trace.meta.vocab")
    csv_lines = page.request.get(server + page.locator("#export-csv").get_attribute("href")).text().splitlines()
    assert len(csv_lines) == len(TEXT) + 1
    press(page, "ArrowRight", 3)
    for fmt in ("png", "svg"):
        with page.expect_download() as info:
            page.click(f"#panel-hidden button[data-export='{fmt}']")
        download = info.value
        path = ARTIFACTS / f"export-hidden.{fmt}"
        download.save_as(path)
        assert download.suggested_filename.endswith(f".{fmt}") and path.stat().st_size > 1000
    assert log.console_errors() == []


def test_the_language_switch_keeps_the_view(server, new_page):
    page, log = new_page(locale="ko-KR")
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=8))
    wait_ready(page)
    assert page.locator("html").get_attribute("lang") == "ko"
    assert "한 단계 앞으로" in page.locator("#btn-forward").inner_text()
    press(page, "ArrowRight", 3)
    shot(page, "bench-ko", full_page=False)
    page.click("#lang-switch")
    wait_ready(page)
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Step forward" in page.locator("#btn-forward").inner_text()
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 3
    assert log.console_errors() == []


def test_korean_plots_speak_korean(server, new_page):
    page, log = new_page(locale="ko-KR")
    page.goto(bench_url(server, arch="rnn", text=TEXT, hidden_size=8, clip_mode="norm", clip_threshold=1,
                        phase="backward", bstep=len(TEXT), lang="ko"))
    wait_ready(page)
    texts = page.evaluate("""() => [...document.querySelectorAll('.plot')].filter(p => p.data).flatMap(p => [
      ...(p.layout.annotations || []).map(a => a.text), ...p.data.map(d => d.name || ''),
      (p.layout.yaxis && p.layout.yaxis.title && p.layout.yaxis.title.text) || '']).join(' | ')""")
    assert "임계값 1 (노름 기준)" in texts
    for english in ("(norm)", "threshold", "bound", "theory", "step"):
        assert english not in texts, english
    caption = page.locator("#caption-jacobian").inner_text()
    assert "1보다 크면 커질 수 있을 뿐" in caption
    assert page.evaluate("getComputedStyle(document.body).wordBreak") == "keep-all"
    assert log.console_errors() == []


def test_the_compare_strip_plots_gradient_against_distance(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=16, step=10))
    wait_ready(page)
    assert page.locator("#note-compare").is_visible()  # says it waits to be scrolled to
    page.locator("#panel-compare").scroll_into_view_if_needed()
    page.wait_for_function("() => window.unrolledBench.compare && window.unrolledBench.compare.ready", timeout=30_000)
    settle(page)
    traces = page.evaluate("document.getElementById('plot-compare').data.map(d => [d.name, d.x.length])")
    names = [name for name, _ in traces]
    assert names[:3] == ["RNN", "LSTM", "GRU"]
    assert all(n > 1 for _, n in traces[:3])
    assert page.evaluate("document.getElementById('plot-compare').layout.yaxis.type") == "log"
    # the theory line for the RNN: y0 * (gamma * sigma_max)^d, never below the RNN's measured curve
    theory = series(page, "compare", "theory")
    rnn = series(page, "compare", "rnn")
    assert theory is not None and theory["name"].startswith("Pascanu")
    for d, y in zip(rnn["x"], rnn["y"], strict=True):
        top = theory["y"][theory["x"].index(d)]
        if y is not None and top is not None:
            assert top >= y * (1 - 1e-6)
    page.locator("#panel-compare").screenshot(path=str(ARTIFACTS / "panel-compare.png"))
    shot(page, "bench-compare")
    assert log.console_errors() == []


def test_ab_mode_steps_two_knob_sets_together(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="rnn", text=TEXT, hidden_size=8, spectral_norm=0.5, phase="backward", bstep=6))
    wait_ready(page)
    page.click("#ab-toggle")
    page.fill("#knob-b-spectral_norm", "1.5")
    page.locator("#knob-b-spectral_norm").press("Enter")
    page.wait_for_function("() => window.unrolledBench.traceB && window.unrolledBench.traceB.done"
                           " && window.unrolledBench.ready")
    assert "b.spectral_norm=1.5" in page.url and "ab=1" in page.url
    assert page.locator("#plot-grad-one-loss-b").is_visible()
    assert page.evaluate("window.unrolledBench.openStreams") <= 1  # one EventSource at most
    a = series(page, "grad-one-loss", "grad")["y"]
    b = page.evaluate(TRACE_BY_META, ["plot-grad-one-loss-b", "grad"])["y"]
    assert sum(v is not None for v in a) == sum(v is not None for v in b) == 5  # both sides 6 steps back
    press(page, "ArrowRight")
    a = series(page, "grad-one-loss", "grad")["y"]
    b = page.evaluate(TRACE_BY_META, ["plot-grad-one-loss-b", "grad"])["y"]
    assert sum(v is not None for v in a) == sum(v is not None for v in b) == 6  # they step together
    shot(page, "bench-ab")
    assert log.console_errors() == []


def test_offline_fallback_and_time_to_interactive(server, new_page):
    """Measured, not asserted against a budget: the figure is written to artifacts/page-interactive.json."""
    page, log = new_page()
    start = time.perf_counter()
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=64))
    page.wait_for_function("() => window.unrolledBench.trace && window.unrolledBench.trace.meta")
    controls_s = time.perf_counter() - start  # the trace's first event handled: keys and buttons work
    wait_ready(page)
    interactive_s = time.perf_counter() - start  # every panel drawn from the complete trace
    nav = page.evaluate("JSON.parse(JSON.stringify(performance.getEntriesByType('navigation')[0]))")
    # offline-first: the page asks nothing of the network, and runs on the local copies and its own modules
    assert log.blocked == []
    assert page.evaluate("typeof window.htmx === 'object' && typeof window.Plotly === 'object'")
    loaded = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
    modules = [u for u in loaded if "/static/js/" in u]
    assert any(u.endswith("/static/js/pages/bench.js") for u in modules)
    assert any(u.endswith("/static/js/core/figure.js") for u in modules)
    press(page, "ArrowRight")
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 1
    figures = {
        "controls_live_s": round(controls_s, 3),
        "interactive_s": round(interactive_s, 3),
        "plotly_loaded_ms": round(page.evaluate(
            "performance.getEntriesByType('resource')"
            ".filter(r => r.name.endsWith('/plotly-cartesian.min.js'))"
            ".map(r => r.responseEnd)[0] || 0"), 1),
        "dom_content_loaded_ms": round(nav["domContentLoadedEventEnd"], 1),
        "load_event_ms": round(nav["loadEventEnd"], 1),
    }
    # a second visit (a student reopening the teacher's link): plotly.js comes from the browser cache
    start = time.perf_counter()
    page.reload()
    wait_ready(page)
    warm_s = time.perf_counter() - start
    figures["warm_reload_interactive_s"] = round(warm_s, 3)
    (ARTIFACTS / "page-interactive.json").write_text(json.dumps(figures, indent=2))
    print("page interactive:", figures)
    assert log.console_errors() == []


def test_space_plays_and_pauses(server, new_page):
    page, log = new_page()
    page.goto(bench_url(server, arch="gru", text=TEXT, hidden_size=8, speed=20))
    wait_ready(page)
    press(page, " ")
    page.wait_for_function("() => window.unrolledBench.view.step >= 6", timeout=10_000)
    assert page.locator("#btn-play").get_attribute("aria-pressed") == "true"
    press(page, " ")
    paused_at = page.evaluate(FILLED_COLUMNS, "plot-hidden")
    page.wait_for_timeout(400)
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == paused_at
    assert page.locator("#btn-play").get_attribute("aria-pressed") == "false"
    # with a transport button focused (just clicked), space still means play/pause, not "click it again"
    page.click("#btn-back")
    at = page.evaluate("window.unrolledBench.view.step")
    page.keyboard.press(" ")
    settle(page)
    assert page.locator("#btn-play").get_attribute("aria-pressed") == "true"
    page.keyboard.press(" ")
    assert page.locator("#btn-play").get_attribute("aria-pressed") == "false"
    assert page.evaluate("window.unrolledBench.view.step") >= at  # it played on; it did not step back
    # GRU shows its own gates: r, z and n, named by the trace
    assert page.evaluate("document.getElementById('plot-gates').data.map(d => d.meta)") == ["r", "z", "n"]
    assert log.console_errors() == []


def test_projector_view_is_large_and_complete(server, new_page):
    """A 1280x720 projector in Korean: big type, the transport and the strip visible without scrolling."""
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=16, step=6))
    wait_ready(page)
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") >= 18
    assert page.evaluate("parseFloat(getComputedStyle(document.getElementById('status')).fontSize)") >= 20
    assert page.locator("#transport").is_visible()
    box = page.locator("#panel-strip").bounding_box()
    assert box["y"] < 720
    assert page.evaluate(FILLED_COLUMNS, "plot-hidden") == 6
    shot(page, "bench-projector-1280x720-ko", full_page=False)
    press(page, "b")
    press(page, "ArrowRight", 5)
    shot(page, "bench-projector-1280x720-ko-backward-full")
    assert log.console_errors() == []


def test_a_phone_never_scrolls_sideways(server, new_page):
    page, log = new_page(locale="ko-KR", width=390, height=844)
    page.goto(bench_url(server, arch="lstm", text=TEXT, hidden_size=16, step=6, lang="ko"))
    wait_ready(page)
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wide = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
      .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > w + 1 && !e.closest('.plot'))
      .map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""", width)
    assert wide == []
    shot(page, "bench-phone-390-ko")
    press(page, "b")
    press(page, "End")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, "bench-phone-390-ko-backward")
    assert log.console_errors() == []


def test_a_pretrained_transformer_brings_its_own_layers_and_heads(server, new_page):
    page, log = new_page()
    archs = {a["arch"]: a for a in page.request.get(f"{server}/api/architectures").json()["architectures"]}
    names = archs["transformer"]["knobs"]["checkpoint"]["choices"]
    assert "transformer-induction" in names
    text = "qwertyuiop qwertyuiop"
    page.goto(bench_url(server, arch="transformer", checkpoint="transformer-induction", text=text, step=len(text)))
    wait_ready(page)
    assert not page.locator("#knob-layers").is_visible()  # the checkpoint's sizes, not the form's
    meta_layers = page.evaluate("window.unrolledBench.trace.steps[0].attention.length")
    meta_heads = page.evaluate("window.unrolledBench.trace.steps[0].attention[0].length")
    assert page.locator("#select-attn-layer option").count() == meta_layers
    assert page.locator("#select-head option").count() == meta_heads
    page.select_option("#select-attn-layer", str(meta_layers - 1))
    settle(page)
    assert page.evaluate("document.getElementById('plot-attention').data[0].z.length") == len(text)
    shot(page, "bench-transformer-checkpoint")
    assert log.console_errors() == []
