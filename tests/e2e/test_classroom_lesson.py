"""A class on a lesson page, in chromium: the teacher opens a room from lesson 5's header, three
students join through /join and land on the lesson page, following it with one EventSource each.

- the students follow the teacher's steps and a knob change (their own figure fetches the trace for
  the new knobs and shows the teacher's step);
- a late joiner (a phone, 390 px) lands on the teacher's current figure, knobs and step;
- a student explores (key e: the teacher's steps no longer move it; the teacher sees the count) and
  follows again (e: the latest state at once);
- the teacher asks the class a question, the students lock in guesses on their own predict widget,
  the teacher's bar shows the distribution; the teacher reveals, and every device shows the answer
  computed from its own trace (equal to the Python twin's for the teacher's knobs) next to the class's
  histogram;
- projector mode (key f on the teacher's page): one figure fills the 1280x720 screen, large type, its
  controls hidden; → steps it and the class follows, n shows the next figure (the class follows), p asks
  the class its question, Escape leaves;
- screenshots (Korean, 1280x720 and 390 px) under artifacts/classroom-*.png; no console errors.
"""

from __future__ import annotations

import re
from collections import Counter

from playwright.sync_api import expect

from app.lessons import load_lessons
from tests.e2e.helpers import ARTIFACTS, shot
from tests.e2e.test_lessons import READY, figure_state, same, twin_value

SLUG = "05-vanishing"
FIGURE = "decay"
QUESTION = "ratio"
WAIT = 30_000


def here(page, name: str) -> None:
    """A screenshot of what the page shows now (helpers.shot scrolls to the top first)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def lesson_question(question_id: str):
    lesson = next(item for item in load_lessons().lessons if item.slug == SLUG)
    return next(q for q in lesson.spec.questions if q.id == question_id)


def view_of(page) -> dict:
    return figure_state(page, FIGURE)["view"]


def join(page, server: str, code: str, nickname: str) -> None:
    page.goto(f"{server}/join?code={code}&lang=ko")
    page.fill("#join-nickname", nickname)
    page.click("#join-form button")
    page.wait_for_url(re.compile(rf"/lessons/{SLUG}\?room={code}"), timeout=WAIT)
    expect(page.locator("#lesson")).to_have_attribute("data-room-status", "following", timeout=WAIT)


def follows(page, teacher) -> None:
    """The student's figure shows the teacher's knobs and step, its trace for those knobs complete."""
    want = figure_state(teacher, FIGURE)
    view = {k: want["view"][k] for k in ("phase", "step", "bstep")}
    page.wait_for_function("""([id, knobs, view]) => {
        const f = window.unrolledLesson && window.unrolledLesson.figures.get(id);
        return f && JSON.stringify(f.knobs) === JSON.stringify(knobs)
          && Object.entries(view).every(([k, v]) => f.store.state[k] === v)
          && f.el.dataset.state === 'done' && f.sides[0].source.trace.meta !== null; }""",
                           arg=[FIGURE, want["knobs"][0], view], timeout=WAIT)
    assert figure_state(page, FIGURE)["knobs"] == want["knobs"]


def teacher_steps(teacher, times: int) -> None:
    """→ on the teacher's figure: its backward step (bstep) in the backward phase, else its step."""
    view = view_of(teacher)
    key = "bstep" if view["phase"] == "backward" else "step"
    teacher.locator(f'[data-figure="{FIGURE}"]').focus()
    for _ in range(times):
        teacher.keyboard.press("ArrowRight")
    teacher.wait_for_function("([id, key, n]) => window.unrolledLesson.figures.get(id).store.state[key] === n",
                              arg=[FIGURE, key, view[key] + times])


def published(teacher) -> int:
    """The id of the state the room last accepted from the teacher (it debounces its changes)."""
    value = teacher.locator("#lesson").get_attribute("data-room-published")
    return int(value) if value else -1


def test_a_class_follows_a_lesson_explores_and_predicts_together(server, new_page) -> None:
    teacher, teacher_log = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{server}/lessons/{SLUG}?lang=ko")
    teacher.wait_for_function(READY, timeout=60_000)
    open_button = teacher.locator("[data-room-open]")
    expect(open_button).to_have_text("수업 열기")
    open_button.click()
    code_el = teacher.locator("#room-teacher .room-code")
    expect(code_el).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{6}$"), timeout=WAIT)
    code = code_el.inner_text()
    assert f"room={code}" in teacher.url
    expect(teacher.locator("#room-teacher .room-qr")).to_have_js_property("complete", True)
    assert teacher.locator("#room-teacher .room-qr").evaluate("img => img.naturalWidth") > 100
    key = teacher.evaluate(f"sessionStorage.getItem('unrolled.room.key.{code}')")
    assert key and len(key) > 20

    teacher.locator(f'[data-figure="{FIGURE}"] [data-status]').click()  # the figure the teacher shows
    teacher_steps(teacher, 2)

    students = [new_page(locale="ko-KR", width=1280, height=720) for _ in range(2)]
    for i, (page, _) in enumerate(students):
        join(page, server, code, f"학생{i}")
        follows(page, teacher)
    teacher_steps(teacher, 3)
    for page, _ in students:
        follows(page, teacher)

    # a knob change: each student's figure fetches the trace for the teacher's knobs
    slider = teacher.locator(f'[data-figure="{FIGURE}"] [data-knob="spectral_norm"]')
    new_value = slider.evaluate("""(el) => { const v = Number(el.max) - Number(el.step || 0.1);
        el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true })); return Number(el.value); }""")
    teacher.wait_for_function(READY, timeout=60_000)
    assert figure_state(teacher, FIGURE)["knobs"][0]["spectral_norm"] == new_value
    for page, _ in students:
        follows(page, teacher)
        assert float(page.locator(f'[data-figure="{FIGURE}"] [data-knob="spectral_norm"]').input_value()) == new_value

    late, late_log = new_page(locale="ko-KR", width=390, height=844)
    join(late, server, code, "늦게 온 학생")  # lands where the class is: the teacher's figure, knobs and step
    follows(late, teacher)
    students.append((late, late_log))
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("접속 3명", timeout=WAIT)

    explorer = students[0][0]
    explorer.keyboard.press("e")
    expect(explorer.locator("#lesson")).to_have_attribute("data-room-status", "exploring")
    expect(explorer.locator("[data-room-toggle]")).to_have_text("다시 따라가기")
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("혼자 살펴보는 중 1명", timeout=WAIT)
    kept = view_of(explorer)
    sent = published(teacher)
    teacher_steps(teacher, 1)
    teacher.wait_for_function("(n) => Number(document.getElementById('lesson').dataset.roomPublished) > n", arg=sent)
    follows(students[1][0], teacher)  # the followers moved (the room's event reached them) ...
    assert view_of(explorer) == kept  # ... the explorer, on the same stream, did not
    explorer.keyboard.press("e")
    expect(explorer.locator("#lesson")).to_have_attribute("data-room-status", "following")
    follows(explorer, teacher)  # the latest state at once
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("혼자 살펴보는 중 0명", timeout=WAIT)

    # predict together: the teacher asks, the devices answer with their own predict widget
    teacher.locator(f'[data-question="{QUESTION}"] [data-room-ask]').click()
    guesses = []
    for (page, _), end in zip(students, ["min", "min", "max"], strict=True):
        q = page.locator(f'[data-question="{QUESTION}"]')
        expect(q).to_have_attribute("data-room-open", "true", timeout=WAIT)
        q.locator("[data-guess]").evaluate(f"""(el) => {{ el.value = el.{end};
            el.dispatchEvent(new Event('input', {{ bubbles: true }})); }}""")
        q.locator("[data-commit]").click()
        expect(q).to_have_attribute("data-room-sent", "true")
        guesses.append(page.evaluate(f"window.unrolledLesson.questions.get('{QUESTION}').guess"))
    expected_counts = sorted(Counter(guesses).values(), reverse=True)
    assert expected_counts == [2, 1]
    expect(teacher.locator("#room-answers li")).to_have_count(2, timeout=WAIT)
    counts = teacher.locator("#room-answers li").evaluate_all("(lis) => lis.map((li) => Number(li.dataset.count))")
    assert counts == expected_counts

    tq = teacher.locator(f'[data-question="{QUESTION}"]')
    tq.locator("[data-commit]").click()
    tq.locator("[data-reveal]").click()  # the teacher's reveal is the class's
    expect(tq).to_have_attribute("data-revealed", "true", timeout=WAIT)
    teacher_value = tq.locator("[data-answer]").get_attribute("data-value")
    state = figure_state(teacher, FIGURE)
    twin = twin_value(server, lesson_question(QUESTION), state["source"], state["knobs"])
    assert same(teacher_value, twin), f"teacher {teacher_value} vs twin {twin}"
    for page, log in students:
        q = page.locator(f'[data-question="{QUESTION}"]')
        expect(q).to_have_attribute("data-revealed", "true", timeout=WAIT)
        expect(q.locator(".room-dist li")).to_have_count(2, timeout=WAIT)
        dist = q.locator(".room-dist li").evaluate_all("(lis) => lis.map((li) => Number(li.dataset.count))")
        assert dist == expected_counts
        assert same(q.locator("[data-answer]").get_attribute("data-value"), twin)  # from the device's own trace
        assert q.locator(".room-dist h4").inner_text() == "반 전체의 답"
        assert not log.console_errors(), log.console_errors()
    assert not teacher_log.console_errors(), teacher_log.console_errors()
    width = late.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone scrolls sideways: {width}px"

    shot(teacher, "classroom-teacher-ko-1280", full_page=False)
    for page, name in ((students[1][0], "classroom-student-ko-1280"), (late, "classroom-student-ko-390")):
        page.locator(f'[data-question="{QUESTION}"] .room-dist').scroll_into_view_if_needed()
        here(page, name)

    # projector mode: the key f on the teacher's page; one figure, its controls hidden, keys only
    teacher.evaluate("document.activeElement && document.activeElement.blur()")
    teacher.keyboard.press("f")
    expect(teacher.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    shown = teacher.locator(f'[data-figure="{FIGURE}"]')
    expect(shown).to_have_class(re.compile(r"\bis-projected\b"))
    expect(shown.locator(".figure-controls")).to_be_hidden()
    expect(shown.locator('[data-act="forward"]')).to_be_hidden()
    expect(teacher.locator('[data-figure="ab"]')).to_be_hidden()
    box = shown.bounding_box()
    assert box and box["x"] == 0 and box["y"] == 0 and box["height"] == 720 and box["width"] >= 0.65 * 1280, box
    assert float(shown.locator("[data-status]").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 28
    teacher_steps(teacher, 1)  # ← → still step it, and the class follows
    for page, _ in students:
        follows(page, teacher)
    here(teacher, "classroom-projector-ko-1280")
    teacher.keyboard.press("n")  # the next figure, published to the room
    teacher.wait_for_function("() => window.unrolledLesson.active.id === 'ab'")
    expect(teacher.locator('[data-figure="ab"]')).to_have_class(re.compile(r"\bis-projected\b"))
    for page, _ in students:
        page.wait_for_function("() => window.unrolledLesson.active && window.unrolledLesson.active.id === 'ab'",
                               timeout=WAIT)
    teacher.keyboard.press("p")  # asks the class the figure's question
    for page, _ in students:
        expect(page.locator('[data-question="grow"]')).to_have_attribute("data-room-open", "true", timeout=WAIT)
    expect(teacher.locator('[data-question="grow"]')).to_be_visible()
    here(teacher, "classroom-projector-question-ko-1280")
    teacher.keyboard.press("Escape")
    expect(teacher.locator("body")).not_to_have_class(re.compile(r"\bprojector\b"))
    expect(teacher.locator(f'[data-figure="{FIGURE}"] .figure-controls')).to_be_visible()
    for _page, log in [*students, (teacher, teacher_log)]:
        assert not log.console_errors(), log.console_errors()


def test_projector_mode_from_the_url_shows_the_first_figure(server, new_page) -> None:
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(f"{server}/lessons/{SLUG}?lang=ko&projector=1")
    page.wait_for_function(READY, timeout=60_000)
    expect(page.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    first = page.locator(f'[data-figure="{FIGURE}"]')
    expect(first).to_have_class(re.compile(r"\bis-projected\b"), timeout=WAIT)
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".projector-hint")).to_be_visible()
    before = figure_state(page, FIGURE)["view"]["bstep"]
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([id, n]) => window.unrolledLesson.figures.get(id).store.state.bstep === n",
                           arg=[FIGURE, before + 1])
    page.keyboard.press("f")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bprojector\b"))
    assert not log.console_errors(), log.console_errors()
