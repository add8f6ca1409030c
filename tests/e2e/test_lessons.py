"""Every lesson in a real browser, in Korean and in English, with the network cut off:

- the page loads with no console error and every figure's trace arrives;
- each figure steps by keyboard: focus it, press → (← when it starts at the end), and the view's
  step and the figure's one-line description both change;
- each question: lock in a guess, reveal, and the revealed data-value equals what the Python twin of
  its answer function (tests/e2e/answers.py) computes from the API's own answer for the same knobs
  (POST /api/trace, POST /api/sample or GET /api/ar); on the Korean page, then change one of the
  figure's controls, reveal again, and the value follows the new knobs (the English page checks the
  reveals for the lesson's own knobs: the arithmetic does not depend on the language);
- the index shows the lesson's progress from localStorage, the others not started; the glossary links
  only lessons that exist;
- screenshots of each lesson in Korean at 1280 x 720 (whole page) and 390 px wide (the first figure's
  screen) into artifacts/lesson-*.png, and nothing scrolls sideways on the phone.

One browser and one server for the whole file (the conftest's session fixtures), one page per
lesson and language.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from functools import lru_cache

import pytest

from app.lessons import load_lessons
from tests.e2e.answers import TWINS
from tests.e2e.helpers import ARTIFACTS, shot

LESSONS = load_lessons().lessons
LANGS = ("ko", "en")
READY = ("() => window.unrolledLesson && [...window.unrolledLesson.figures.values()].every((f) => "
         "f.el.dataset.state === 'done' || (f.kind === 'lab' && f.el.dataset.state === 'idle'))")  # runs wait for start
LAB_TIMEOUT_MS = 120_000  # a lesson's lab figure: its runs train on this server (a few hundred steps each)


@lru_cache(maxsize=256)
def _fetch(base: str, source: str, knobs_json: str) -> dict:
    """The API's own answer for a figure's knobs: POST /api/trace, POST /api/sample or GET /api/ar."""
    if source == "seq2seq":  # the trace, and the accuracy of its task's checkpoints (as sources/seq2seq.js)
        request = urllib.request.Request(f"{base}/api/seq2seq/trace", data=knobs_json.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            body = json.loads(r.read())
        with urllib.request.urlopen(f"{base}/api/seq2seq/accuracy?task={body['task']}", timeout=60) as r:
            return {**body, "accuracy": json.loads(r.read())}
    if source == "shapes":  # the three bodies sources/shapes.js posts (its bodies())
        knobs = json.loads(knobs_json)
        batch = {k: knobs[k] for k in ("sentences", "labels", "lengths") if knobs.get(k) not in (None, "")}
        out, one = {}, {"sentence": knobs.get("sentence")}
        for name, body in (("tag", one), ("classify", one), ("padding", batch if "sentences" in knobs else {})):
            body = {k: v for k, v in body.items() if v is not None}
            request = urllib.request.Request(f"{base}/api/shapes/{name}", data=json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as r:
                out[name] = json.loads(r.read())
        return out
    if source == "ar":
        query = urllib.parse.urlencode({k: v for k, v in json.loads(knobs_json).items() if v is not None})
        request = urllib.request.Request(f"{base}/api/ar?{query}")
    else:
        path = {"trace": "/api/trace", "sample": "/api/sample"}[source]
        request = urllib.request.Request(f"{base}{path}", data=knobs_json.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def run_events(base: str, run_id: str) -> list[dict]:
    """Every event of a finished run, from GET /api/runs/{id}/events (the stream ends at its final event)."""
    with urllib.request.urlopen(f"{base}/api/runs/{run_id}/events", timeout=60) as r:
        text = r.read().decode()
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields and "data" in fields:
            events.append({"event": fields["event"], "data": json.loads(fields["data"])})
    return events


def train_lab_figure(page, figure_id: str) -> list[str]:
    """Press the lab figure's start button and wait on the page until every run has finished; its run ids."""
    fig = page.locator(f'[data-figure="{figure_id}"]')
    if fig.get_attribute("data-state") != "done":
        assert fig.get_attribute("data-state") == "idle", "a lab figure waits for its start button"
        assert fig.locator('[data-lab="stop"]').is_disabled()
        fig.locator('[data-lab="start"]').click()
        state = "(id) => document.querySelector(`[data-figure=\"${id}\"]`).dataset.state"
        page.wait_for_function(f"(id) => ({state})(id) !== 'idle'", arg=figure_id, timeout=10_000)
        assert page.evaluate("""(id) => { const f = window.unrolledLesson.figures.get(id);
                                          return f.sides[0].source.trace.done || f.el.querySelector('[data-lab="stop"]')
                                            .disabled === false; }""", figure_id), "stop is offered while training"
        page.wait_for_function(f"(id) => ({state})(id) === 'done'", arg=figure_id, timeout=LAB_TIMEOUT_MS)
    status = page.evaluate("""(id) => window.unrolledLesson.figures.get(id).sides[0].source.trace.runs
                                .map((r) => [r.id, r.status])""", figure_id)
    assert all(kind in ("done", "diverged") for _, kind in status), status
    return [run_id for run_id, _ in status]


def payload_for(base: str, source: str, knobs: dict) -> dict:
    return _fetch(base, source, json.dumps(knobs, sort_keys=True))


def same(page_value: str, twin_value: float | None) -> bool:
    """The page's value against the twin's. The trace holds float32 numbers, which the stream writes
    as the nearest double (4.271920680999756) and POST /api/trace as the shortest float32 text
    (4.2719207): the same numbers, so they agree to float32 precision, summed over up to T terms."""
    if twin_value is None:
        return page_value == "null"
    if page_value in ("null", ""):
        return False
    return math.isclose(float(page_value), twin_value, rel_tol=1e-4, abs_tol=1e-9)


def open_lesson(new_page, server, slug: str, lang: str, width: int = 1280, height: int = 720):
    page, log = new_page(locale="ko-KR" if lang == "ko" else "en-US", width=width, height=height)
    page.goto(f"{server}/lessons/{slug}?lang={lang}")
    page.wait_for_function(READY, timeout=60_000)
    return page, log


def figure_state(page, figure_id: str) -> dict:
    return page.evaluate("""(id) => {
        const f = window.unrolledLesson.figures.get(id);
        return { view: f.store.state, T: f.store.T, knobs: f.sides.map((s) => f.knobsFor(s)),
                 describe: f.el.querySelector('[data-describe]').textContent, source: f.spec.source,
                 controls: f.spec.controls, steppable: f.steppable };
    }""", figure_id)


def step_by_keyboard(page, figure_id: str) -> None:
    before = figure_state(page, figure_id)
    key_of = "step" if before["view"]["phase"] == "forward" else "bstep"
    at_end = before["view"][key_of] >= before["T"]
    page.locator(f'[data-figure="{figure_id}"]').focus()
    page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
    page.wait_for_function("""([id, key, n]) => window.unrolledLesson.figures.get(id).store.state[key] !== n""",
                           arg=[figure_id, key_of, before["view"][key_of]], timeout=5_000)
    page.wait_for_function("""([id, text]) => document.querySelector(`[data-figure="${id}"] [data-describe]`)
                               .textContent !== text""", arg=[figure_id, before["describe"]], timeout=5_000)
    after = figure_state(page, figure_id)
    assert after["view"][key_of] == before["view"][key_of] + (-1 if at_end else 1)
    assert after["describe"], f"{figure_id}: no description"


def commit_and_reveal(page, question_id: str, wait: bool = True) -> str:
    q = page.locator(f'[data-question="{question_id}"]')
    if q.get_attribute("data-committed") != "true":
        kind = q.get_attribute("data-kind")
        if kind != "number":
            q.locator("[data-guess]").first.check()
        q.locator("[data-commit]").click()
    reveal = q.locator("[data-reveal]")
    assert reveal.is_enabled()
    reveal.click()
    if not wait:  # a lab figure not started: the page says so instead of an answer
        error = q.locator("[data-q-error]")
        error.wait_for(state="visible", timeout=5_000)
        assert error.text_content(), question_id
        return q.locator("[data-answer]").get_attribute("data-value")
    page.wait_for_function("""(id) => { const el = document.querySelector(`[data-question="${id}"]`);
                               return el.dataset.revealing === 'false' && el.dataset.revealed === 'true'; }""",
                           arg=question_id, timeout=60_000)
    error = q.locator("[data-q-error]")
    assert not error.is_visible(), f"{question_id}: {error.text_content()}"
    return q.locator("[data-answer]").get_attribute("data-value")


def twin_value(server: str, question, source: str, knobs: list[dict], run_ids: list[str] | None = None) -> float | None:
    if source == "lab":  # the twin reads the runs' own events from the API
        return TWINS[question.answer]({"runs": [run_events(server, i) for i in run_ids]}, dict(question.args))["value"]
    payloads = [payload_for(server, source, k) for k in knobs]
    result = TWINS[question.answer](payloads[0], dict(question.args), payloads[1] if len(payloads) > 1 else None)
    return result["value"]


def change_a_control(page, figure_id: str) -> str | None:
    """Move one of the figure's controls to another value (through its own widget's change event);
    returns the knob's name, or None when the figure has no control to change."""
    return page.evaluate("""(id) => {
        const fig = document.querySelector(`[data-figure="${id}"]`);
        const fire = (el) => { el.dispatchEvent(new Event('input', { bubbles: true }));
                               el.dispatchEvent(new Event('change', { bubbles: true })); };
        const preferred = ['number', 'range', 'select', 'checkbox', 'text'];
        const controls = [...fig.querySelectorAll('[data-control]')]
          .sort((a, b) => preferred.findIndex((w) => a.classList.contains(`control-${w}`))
                        - preferred.findIndex((w) => b.classList.contains(`control-${w}`)));
        for (const box of controls) {
          const name = box.dataset.control, input = box.querySelector('[data-knob]');
          const none = box.querySelector('[data-null-for]');
          if (none && none.checked) { none.checked = false; fire(none); return name; }
          if (input.type === 'range' || input.type === 'number') {
            const lo = Number(input.min), hi = Number(input.max), v = Number(input.value);
            const step = Number(input.step) || 1;
            let next = lo + Math.round(((v - lo + 0.3 * (hi - lo)) % (hi - lo)) / step) * step;
            if (next === v) next = v + step <= hi ? v + step : v - step;
            input.value = String(Number(next.toFixed(6)));
            fire(input);
            return name;
          }
          if (input.tagName === 'SELECT') {
            input.selectedIndex = (input.selectedIndex + 1) % input.options.length;
            fire(input);
            return name;
          }
          if (input.type === 'checkbox') { input.checked = !input.checked; fire(input); return name; }
          if (input.type === 'text') {
            input.value = [...input.value].reverse().join('');
            fire(input);
            return name;
          }
        }
        return null;
    }""", figure_id)


def check_questions(page, server, lesson, change_controls: bool) -> None:
    """Reveal every question and check its value against the twin; with change_controls, also move one
    control of each question's figure and check that the next reveal follows the new knobs."""
    changed: set[str] = set()
    for question in lesson.spec.questions:
        run_ids = None
        if lesson.figure(question.figure).source == "lab":
            if page.locator(f'[data-figure="{question.figure}"]').get_attribute("data-state") == "idle":
                before = commit_and_reveal(page, question.id, wait=False)  # before the runs: the page says to start
                assert before == "", before
            run_ids = train_lab_figure(page, question.figure)
        value = commit_and_reveal(page, question.id)
        state = figure_state(page, question.figure)
        expected = twin_value(server, question, state["source"], state["knobs"], run_ids)
        assert same(value, expected), f"{question.id}: page {value} vs twin {expected} for {state['knobs']}"
        if not change_controls or question.figure in changed:
            continue  # one change per figure (a later question on it reads the changed knobs)
        knob = change_a_control(page, question.figure)
        if knob is None:
            continue
        changed.add(question.figure)
        page.wait_for_function(READY, timeout=60_000)
        after = figure_state(page, question.figure)
        assert after["knobs"] != state["knobs"], f"{question.id}: changing {knob} did not change the knobs"
        assert page.locator(f'[data-question="{question.id}"] [data-stale]').is_visible()
        value = commit_and_reveal(page, question.id)
        expected = twin_value(server, question, after["source"], after["knobs"])
        assert same(value, expected), f"{question.id} after {knob}: page {value} vs twin {expected}"


def check_figures_step(page, lesson) -> None:
    for fig in lesson.spec.figures:
        if fig.source != "lab" and figure_state(page, fig.id)["steppable"]:  # not the compare strip nor lab runs
            step_by_keyboard(page, fig.id)


SLUGS = [lesson.slug for lesson in LESSONS]
needs_lessons = pytest.mark.skipif(not LESSONS, reason="lessons/ has no valid lesson")


def check_korean(page, log, server, lesson) -> None:
    """Steps, reveals, follows its knobs; a screenshot at 1280 x 720; then a 390 px phone."""
    slug = lesson.slug
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("h1").text_content() == lesson.title("ko")
    check_figures_step(page, lesson)
    check_questions(page, server, lesson, change_controls=True)
    assert not log.console_errors(), log.console_errors()
    page.locator("[data-figure]").first.blur()
    shot(page, f"lesson-{slug}-ko-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    try:  # Plotly follows its containers on the window's resize event (debounced)
        page.wait_for_function("() => document.documentElement.scrollWidth <= 390", timeout=10_000)
    except Exception:  # noqa: BLE001 (the assertion below says how wide)
        pass
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{slug}: the page is {width} px wide on a 390 px screen"
    assert page.evaluate("getComputedStyle(document.querySelector('.lesson-body')).wordBreak") == "keep-all"
    for tops in page.evaluate("""() => [...document.querySelectorAll('.figure-sides')].map((el) =>
            [...el.children].map((c) => c.getBoundingClientRect().top))"""):
        assert tops[1] > tops[0], "A and B stack on a phone"
    # a whole-page shot costs seconds here: the screen with the first figure shows the phone layout
    page.locator("[data-figure]").first.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    page.screenshot(path=str(ARTIFACTS / f"lesson-{slug}-ko-390.png"))
    assert not log.console_errors(), log.console_errors()


def check_english(page, log, server, lesson) -> None:
    """Steps and reveals; then the index shows this lesson's progress and the glossary its terms."""
    slug = lesson.slug
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").text_content() == lesson.title("en")
    check_figures_step(page, lesson)
    check_questions(page, server, lesson, change_controls=False)  # following the knobs: the Korean page
    assert not log.console_errors(), log.console_errors()

    # the index shows this lesson's progress (localStorage), the others not started; the cookie keeps English
    page.goto(f"{server}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".lesson-card").count() == len(LESSONS)
    card = page.locator(f'[data-lesson="{slug}"]')
    assert card.locator(".lesson-title").text_content() == lesson.title("en")
    if lesson.spec.questions:
        assert card.get_attribute("data-started") == "true"
    for other in LESSONS:
        if other.slug != slug:
            assert page.locator(f'[data-lesson="{other.slug}"] [data-progress]').text_content() == "Not started"
    assert page.locator('a[href="/bench"]').count() and page.locator('a[href="/glossary"]').count()
    if slug == SLUGS[0]:
        shot(page, "lesson-index-en")
        page.goto(f"{server}/glossary")
        assert page.locator("html").get_attribute("lang") == "en"
        links = page.locator(".glossary-table a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
        assert all(href.removeprefix("/lessons/") in SLUGS for href in links), links  # only lessons that exist
    assert not log.console_errors(), log.console_errors()


@needs_lessons
@pytest.mark.parametrize("slug", SLUGS)
def test_lesson_in_korean_steps_reveals_follows_its_knobs_and_fits_a_phone(new_page, server, slug):
    lesson = next(lesson for lesson in LESSONS if lesson.slug == slug)
    page, log = open_lesson(new_page, server, slug, "ko")
    check_korean(page, log, server, lesson)


@needs_lessons
@pytest.mark.parametrize("slug", SLUGS)
def test_lesson_in_english_steps_reveals_and_shows_progress(new_page, server, slug):
    lesson = next(lesson for lesson in LESSONS if lesson.slug == slug)
    page, log = open_lesson(new_page, server, slug, "en")
    check_english(page, log, server, lesson)


def _set_control(page, figure_id: str, name: str, value) -> None:
    """Set one control of a figure through its widget (a checkbox takes a bool) and fire its events."""
    page.evaluate("""([id, name, value]) => {
        const input = document.querySelector(`[data-figure="${id}"] [data-control="${name}"] [data-knob]`);
        if (input.type === 'checkbox') input.checked = value; else input.value = String(value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
    }""", [figure_id, name, value])


def _plot(page, figure_id: str, panel: str) -> str:
    return f'[data-figure="{figure_id}"] [data-panel="{panel}"][data-side="a"]'


def _wait_knob(page, figure_id: str, name: str, value) -> None:
    page.wait_for_function("""([id, name, value]) => { const f = window.unrolledLesson.figures.get(id);
        return JSON.stringify(f.knobsFor(f.sides[0])[name]) === JSON.stringify(value)
          && ['done', 'error'].includes(f.el.dataset.state); }""", arg=[figure_id, name, value], timeout=60_000)


def test_lesson_10_redraws_depth_and_runs_the_batch_the_learner_cuts(new_page, server):
    page, log = open_lesson(new_page, server, "10-shapes", "ko")
    # the graph: one row of states per stacked layer
    for layers in (3, 1):
        _set_control(page, "deep", "layers", layers)
        _wait_knob(page, "deep", "layers", layers)
        rows = f"[...document.querySelectorAll('{_plot(page, 'deep', 'shape-graph')} svg text')]"
        page.wait_for_function(f"() => {rows}.filter((el) => el.textContent.startsWith('h³')).length"
                               f" === {5 if layers == 3 else 0}")  # drawn on the next animation frame
        labels = page.locator(f"{_plot(page, 'deep', 'shape-graph')} svg text").all_text_contents()
        assert sum(label.startswith("h¹") for label in labels) == 5
        assert sum(label.startswith("h²") for label in labels) == (5 if layers == 3 else 0)
    # live: the GRU of that many layers, each layer's ||h_t|| from the API's own trace
    _set_control(page, "deep-live", "layers", 2)
    _wait_knob(page, "deep-live", "layers", 2)
    page.wait_for_function(READY, timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{_plot(page, 'deep-live', 'depth')}').data.length === 2")
    state = figure_state(page, "deep-live")
    api = payload_for(server, "trace", state["knobs"][0])
    ys = page.evaluate(f"document.querySelector('{_plot(page, 'deep-live', 'depth')}').data.map((d) => d.y)")
    assert len(ys) == 2 == len(api["steps"][0]["h"])
    for layer in range(2):
        norms = [math.sqrt(sum(v * v for v in step["h"][layer])) for step in api["steps"]]
        assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(ys[layer], norms, strict=True))
    metas = page.evaluate(f"document.querySelector('{_plot(page, 'deep-live', 'grad-norm')}').data.map((d) => d.meta)")
    assert "grad_h" in metas and "grad_h_l0" in metas  # one gradient line per layer
    # padding: the learner's lengths cut the batch; the mask box swaps the padded run beside packed
    knobs = figure_state(page, "padding")["knobs"][0]
    _set_control(page, "padding", "lengths", "5, 20, 40")
    _wait_knob(page, "padding", "lengths", "5, 20, 40")
    api = payload_for(server, "shapes", {**knobs, "lengths": "5, 20, 40"})["padding"]
    assert api["lengths"] == [5, 20, 40]
    sel = _plot(page, "padding", "padding")
    bars_of = (f"(axis) => document.querySelector('{sel}').data.filter((d) => d.type === 'bar' && d.yaxis === axis)"
               ".map((d) => [d.offsetgroup, d.y])")
    expected = [["no_mask", api["no_mask"]["distance_to_packed"]], ["packed", api["packed"]["distance_to_packed"]]]
    page.wait_for_function(f"([axis, want]) => JSON.stringify(({bars_of})(axis)) === JSON.stringify(want)",
                           arg=["y2", expected], timeout=10_000)  # the cut batch, drawn
    assert min(api["no_mask"]["distance_to_packed"][:2]) > 1e-3
    _set_control(page, "padding", "mask", True)
    _wait_knob(page, "padding", "mask", True)
    expected = [["mask", api["mask"]["loss"]], ["packed", api["packed"]["loss"]]]
    page.wait_for_function(f"([axis, want]) => JSON.stringify(({bars_of})(axis)) === JSON.stringify(want)",
                           arg=["y3", expected], timeout=10_000)  # the masked run beside packed
    page.locator('[data-figure="padding"]').scroll_into_view_if_needed()
    page.locator('[data-figure="padding"]').screenshot(path=str(ARTIFACTS / "lesson-10-padding-lengths-ko.png"))
    page.locator('[data-figure="deep-live"]').screenshot(path=str(ARTIFACTS / "lesson-10-deep-live-ko.png"))
    # a length past its sentence: the API's sentence, in Korean, naming the field
    _set_control(page, "padding", "lengths", "5, 99, 40")
    page.wait_for_function("() => document.querySelector('[data-figure=\"padding\"]').dataset.state === 'error'")
    text = page.locator('[data-figure="padding"] [data-error]').text_content()
    assert "길이" in text and "99" in text
    assert [e for e in log.console_errors() if "422" not in e] == []
