"""The classroom on the bench and in the lab, in chromium, and projector mode's plots.

- the bench: a teacher opens a room from /bench; two students join through /join and land on the bench
  with the teacher's knobs and step; they follow steps and a knob change (their bench loads the
  teacher's knobs and shows the teacher's step); a late joiner on a phone (390 px) lands on the current
  state and the student bar covers none of the page's last lines; a student explores (e: the teacher's
  steps no longer move it) and follows again (e: the latest state at once);
- the encoder-decoder bench: a class follows its step and a new source string (a new page for the
  teacher), on a laptop and a phone, and goes back with the teacher to the recurrent bench;
- the lab: a teacher opens a room from /lab and starts a preset; a student sees the same runs (the
  teacher's run ids) and their curves grow, without starting any run (the student's page sends no
  POST /api/runs) and without controls over them;
- projector mode on a lesson: the figure's plots fill the 1280x720 screen and their tick labels are
  large (font size read from the DOM).
Screenshots (Korean, 1280x720 and 390 px) under artifacts/rooms-bench-*, rooms-seq2seq-*, rooms-lab-*,
rooms-projector-*.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import ARTIFACTS
from tests.e2e.test_lessons import READY

WAIT = 30_000
BENCH_READY = "() => window.unrolledBench && window.unrolledBench.ready"


def here(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_class(teacher) -> str:
    teacher.locator("[data-room-open]").click()
    code_el = teacher.locator("#room-teacher .room-code")
    expect(code_el).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{6}$"), timeout=WAIT)
    code = code_el.inner_text()
    assert f"room={code}" in teacher.url
    expect(teacher.locator("#room-teacher .room-qr")).to_have_js_property("complete", True)
    return code


def join(page, server: str, code: str, nickname: str, path: str) -> None:
    page.goto(f"{server}/join?code={code}&lang=ko")
    page.fill("#join-nickname", nickname)
    page.click("#join-form button")
    page.wait_for_url(re.compile(rf"{path}\?.*room={code}"), timeout=WAIT)
    page.wait_for_function("() => document.querySelector('[data-room-status=\"following\"]')", timeout=WAIT)


def published(teacher) -> int:
    value = teacher.evaluate("document.querySelector('[data-room-published]')?.dataset.roomPublished")
    return int(value) if value else -1


def wait_published(teacher, after: int) -> None:
    teacher.wait_for_function("(n) => Number(document.querySelector('[data-room-published]')"
                              "?.dataset.roomPublished) > n", arg=after, timeout=WAIT)


def bench_state(page) -> dict:
    return page.evaluate("""() => { const b = window.unrolledBench;
        return { knobs: b.bench.knobs, view: b.view, T: b.T, arch: b.arch }; }""")


def follows_bench(page, teacher) -> None:
    want = bench_state(teacher)
    page.wait_for_function("""([knobs, view]) => { const b = window.unrolledBench;
        return b && b.ready && b.bench && JSON.stringify(b.bench.knobs) === JSON.stringify(knobs)
          && ['phase', 'step', 'bstep'].every((k) => b.view[k] === view[k]); }""",
                           arg=[want["knobs"], want["view"]], timeout=WAIT)


def steps(page, times: int) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(times):
        page.keyboard.press("ArrowRight")


def test_a_class_follows_the_bench_steps_and_knobs_explores_and_follows_again(server, new_page) -> None:
    teacher, teacher_log = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{server}/bench?arch=rnn&text=hello+world&lang=ko")
    teacher.wait_for_function(BENCH_READY, timeout=60_000)
    expect(teacher.locator("[data-room-open]")).to_have_text("수업 열기")
    code = open_class(teacher)
    steps(teacher, 3)
    teacher.wait_for_function("() => window.unrolledBench.view.step === 3")

    students = [new_page(locale="ko-KR", width=1280, height=720) for _ in range(2)]
    for i, (page, _) in enumerate(students):
        join(page, server, code, f"학생{i}", "/bench")
        follows_bench(page, teacher)
    sent = published(teacher)
    steps(teacher, 2)
    wait_published(teacher, sent)
    for page, _ in students:
        follows_bench(page, teacher)

    # a knob change: each student's bench loads the teacher's knobs and keeps the teacher's step
    teacher.select_option("#knob-arch", "lstm")
    teacher.wait_for_function("() => window.unrolledBench.arch === 'lstm' && window.unrolledBench.ready",
                              timeout=60_000)
    for page, _ in students:
        follows_bench(page, teacher)
        assert page.evaluate("window.unrolledBench.arch") == "lstm"
        assert page.evaluate("window.unrolledBench.view.step") == bench_state(teacher)["view"]["step"]
    assert "room=" + code in students[0][0].url  # a reload keeps following

    late, late_log = new_page(locale="ko-KR", width=390, height=844)
    join(late, server, code, "늦게 온 학생", "/bench")
    follows_bench(late, teacher)
    students.append((late, late_log))
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("접속 3명", timeout=WAIT)

    # the phone: the fixed student bar covers none of the page's last lines once scrolled to the end
    # (at the end the compare strip starts and grows the page: scroll until the end stays the end)
    late.wait_for_function("""() => { window.scrollTo(0, document.documentElement.scrollHeight);
        return window.unrolledBench.ready && window.unrolledBench.compare && window.unrolledBench.compare.done
          && !window.unrolledBench.pending
          && window.scrollY + innerHeight >= document.documentElement.scrollHeight - 1; }""",
                           timeout=WAIT, polling=200)
    bar_top = late.locator("#room-student").bounding_box()["y"]
    last_bottom = late.evaluate("""() => Math.max(...[...document.querySelectorAll('#bench > *')]
        .filter((el) => el.getClientRects().length).map((el) => el.getBoundingClientRect().bottom))""")
    assert last_bottom <= bar_top, f"the bar ({bar_top}) covers the page's end ({last_bottom})"
    width = late.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone scrolls sideways: {width}px"
    here(late, "rooms-bench-student-ko-390-end")

    explorer = students[0][0]
    explorer.evaluate("document.activeElement && document.activeElement.blur()")
    explorer.keyboard.press("e")
    expect(explorer.locator("body")).to_have_attribute("data-room-status", "exploring")
    expect(explorer.locator("[data-room-toggle]")).to_have_text("다시 따라가기")
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("혼자 살펴보는 중 1명", timeout=WAIT)
    kept = explorer.evaluate("window.unrolledBench.view")
    sent = published(teacher)
    steps(teacher, 1)
    wait_published(teacher, sent)
    follows_bench(students[1][0], teacher)
    assert explorer.evaluate("window.unrolledBench.view") == kept  # detached: its own view
    explorer.keyboard.press("e")
    expect(explorer.locator("body")).to_have_attribute("data-room-status", "following")
    follows_bench(explorer, teacher)
    expect(teacher.locator("#room-teacher .room-counts")).to_contain_text("혼자 살펴보는 중 0명", timeout=WAIT)

    for _page, log in [*students, (teacher, teacher_log)]:
        assert not log.console_errors(), log.console_errors()
    teacher.evaluate("window.scrollTo(0, 0)")
    here(teacher, "rooms-bench-teacher-ko-1280")
    students[1][0].evaluate("window.scrollTo(0, 0)")
    here(students[1][0], "rooms-bench-student-ko-1280")


def s2s_state(page) -> dict:
    return page.evaluate("() => ({ knobs: window.unrolledBench.bench.knobs, step: window.unrolledBench.view.step })")


def follows_s2s(page, teacher) -> None:
    want = s2s_state(teacher)
    page.wait_for_function("""([knobs, step]) => { const b = window.unrolledBench;
        return b && b.mode === 'seq2seq' && b.ready && JSON.stringify(b.bench.knobs) === JSON.stringify(knobs)
          && b.view.step === step; }""", arg=[want["knobs"], want["step"]], timeout=WAIT)


def test_a_class_follows_the_encoder_decoder_bench_and_the_teacher_back_to_the_recurrent_one(server, new_page) -> None:
    teacher, teacher_log = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{server}/bench?mode=seq2seq&source=attention&lang=ko")
    teacher.wait_for_function(BENCH_READY, timeout=60_000)
    code = open_class(teacher)
    steps(teacher, 2)
    teacher.wait_for_function("() => window.unrolledBench.view.step === 3")  # the page opens on step 1

    student, student_log = new_page(locale="ko-KR", width=1280, height=720)
    join(student, server, code, "학생", "/bench")
    assert "mode=seq2seq" in student.url
    follows_s2s(student, teacher)
    phone, phone_log = new_page(locale="ko-KR", width=390, height=844)
    join(phone, server, code, "휴대폰", "/bench")
    follows_s2s(phone, teacher)

    sent = published(teacher)
    steps(teacher, 2)
    wait_published(teacher, sent)
    follows_s2s(student, teacher)

    # a new source string is a new page for the teacher (the form's GET keeps the room); the class follows
    teacher.fill("#s2s-knobs input[name=source]", "bench")
    teacher.press("#s2s-knobs input[name=source]", "Enter")
    teacher.wait_for_url(re.compile(rf"source=bench.*room={code}|room={code}.*source=bench"), timeout=WAIT)
    teacher.wait_for_function(BENCH_READY + " && document.body.dataset.room === 'teacher'", timeout=60_000)
    for page in (student, phone):
        page.wait_for_url(re.compile(r"source=bench"), timeout=WAIT)
        follows_s2s(page, teacher)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone scrolls sideways: {width}px"
    here(phone, "rooms-seq2seq-student-ko-390")
    here(teacher, "rooms-seq2seq-teacher-ko-1280")
    here(student, "rooms-seq2seq-student-ko-1280")

    # the teacher follows the page's link back to the recurrent bench (it keeps the room): the class too
    teacher.click("a[data-room-carry]")
    teacher.wait_for_url(re.compile(rf"/bench\?(?!.*mode=seq2seq).*room={code}"), timeout=WAIT)
    teacher.wait_for_function(BENCH_READY + " && document.body.dataset.room === 'teacher'", timeout=60_000)
    student.wait_for_url(re.compile(r"/bench\?(?!.*mode=seq2seq)"), timeout=WAIT)
    follows_bench(student, teacher)
    for log in (teacher_log, student_log, phone_log):
        assert not log.console_errors(), log.console_errors()


CURVES = ("() => (document.getElementById('plot-loss').data || [])"
          ".filter((d) => String(d.meta).startsWith('train-') && d.x.length >= 2).length")
SAME_RUNS = "(ids) => JSON.stringify(window.unrolledLab.runs.map((r) => r.id)) === JSON.stringify(ids)"


def test_a_class_follows_the_teachers_lab_runs_without_starting_its_own(server, new_page) -> None:
    teacher, teacher_log = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{server}/lab?lang=ko")
    teacher.wait_for_function("() => window.unrolledLab && window.unrolledRoom", timeout=WAIT)
    code = open_class(teacher)
    teacher.locator('.preset-card[data-preset="truncation"]').click()

    student, student_log = new_page(locale="ko-KR", width=1280, height=720)
    started_by_student: list[str] = []
    student.on("request", lambda r: started_by_student.append(r.url)
               if r.method == "POST" and r.url.rstrip("/").endswith("/api/runs") else None)
    join(student, server, code, "학생", "/lab")
    # the teacher's configuration is in the student's form
    student.wait_for_function("() => document.querySelector('input[name=preset][value=truncation]').checked",
                              timeout=WAIT)

    teacher.locator("#lab-start").click()
    teacher.wait_for_function("() => window.unrolledLab.runs.length === 4"
                              " && window.unrolledLab.runs.every((r) => r.id)", timeout=WAIT)
    ids = teacher.evaluate("window.unrolledLab.runs.map((r) => r.id)")
    student.wait_for_function(SAME_RUNS + " && window.unrolledLab.runs.every((r) => r.followed)", arg=ids, timeout=WAIT)
    student.wait_for_function(f"() => ({CURVES})() === 4", timeout=60_000)
    before = student.evaluate("window.unrolledLab.runs.map((r) => r.series.step.length)")
    student.wait_for_function("(before) => window.unrolledLab.runs.every((r, i) => r.series.step.length > before[i])",
                              arg=before, timeout=60_000)  # the curves grow, from the teacher's runs' streams
    assert all(student.locator(".run-row [data-act=pause]").evaluate_all("(bs) => bs.map((b) => b.disabled)"))
    assert all(student.locator(".run-row [data-act=stop]").evaluate_all("(bs) => bs.map((b) => b.disabled)"))

    # a late joiner sees the same runs from their first event
    late, late_log = new_page(locale="ko-KR", width=390, height=844)
    late.on("request", lambda r: started_by_student.append(r.url)
            if r.method == "POST" and r.url.rstrip("/").endswith("/api/runs") else None)
    join(late, server, code, "늦게 온 학생", "/lab")
    late.wait_for_function(SAME_RUNS + " && window.unrolledLab.runs.every((r) => r.series.step.length >= 2)",
                           arg=ids, timeout=60_000)
    assert started_by_student == [], started_by_student  # the class started nothing: 4 runs on the server, not 12

    student.wait_for_function("() => !window.unrolledLab.pending")
    student.locator("#lab-run-list").scroll_into_view_if_needed()
    here(student, "rooms-lab-student-ko-1280")
    late.wait_for_function("() => !window.unrolledLab.pending")
    here(late, "rooms-lab-student-ko-390")
    teacher.evaluate("window.scrollTo(0, 0)")
    here(teacher, "rooms-lab-teacher-ko-1280")

    teacher.locator("#lab-stop-all").click()  # the teacher's stop reaches the class through the runs' events
    student.wait_for_function("() => window.unrolledLab.runs.every((r) => ['stopped', 'done'].includes(r.status))",
                              timeout=WAIT)
    for log in (teacher_log, student_log, late_log):
        assert not log.console_errors(), log.console_errors()


def test_projector_mode_fills_the_screen_with_large_plot_type(server, new_page) -> None:
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    page.goto(f"{server}/lessons/05-vanishing?lang=ko&projector=1")
    page.wait_for_function(READY, timeout=60_000)
    shown = page.locator(".lesson-figure.is-projected")
    expect(shown).to_have_count(1, timeout=WAIT)
    fitted = """() => { const plots = [...document.querySelectorAll('.is-projected .panel-plot.js-plotly-plot')];
        if (!plots.length) return null;
        const size = (sel) => [...document.querySelectorAll(sel)].map((t) => parseFloat(getComputedStyle(t).fontSize));
        const x = size('.is-projected .xtick text'), y = size('.is-projected .ytick text');
        if (!x.length || !y.length) return null;
        // every x label; the y axes' major labels (a log axis writes its minor 2 and 5 at 3/4 of the size)
        return { tick: Math.min(...x, Math.max(...y)),
                 height: Math.max(...plots.map((p) => p.getBoundingClientRect().height)),
                 bottom: Math.max(...plots.map((p) => p.getBoundingClientRect().bottom)) }; }"""
    page.wait_for_function(f"() => {{ const f = ({fitted})(); return f && f.tick >= 18; }}", timeout=WAIT)
    sizes = page.evaluate(fitted)
    assert sizes["tick"] >= 18, sizes
    assert sizes["height"] >= 300, sizes  # the plots share the screen's height, not the panels' 400 px ...
    assert sizes["bottom"] <= 720 + 1, sizes  # ... and fit on it
    page.keyboard.press("ArrowRight")  # a step redraws: the projector's sizes hold
    page.wait_for_function(f"() => {{ const f = ({fitted})(); return f && f.tick >= 18; }}", timeout=WAIT)
    here(page, "rooms-projector-ko-1280")
    page.keyboard.press("Escape")
    page.wait_for_function("""() => { const t = document.querySelector('.lesson-figure .xtick text');
        return t && parseFloat(getComputedStyle(t).fontSize) < 18; }""", timeout=WAIT)  # the panels' own type again
    assert not log.console_errors(), log.console_errors()
