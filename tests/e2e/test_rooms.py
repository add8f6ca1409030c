"""A class in chromium: a teacher on /teach and three students on /join, each in a browser context of
its own. The students follow the teacher's steps, a late joiner lands on the current step, one student
explores and follows again, an open question is answered on the devices, and the reveal shows the
class's distribution. Screenshots of the teacher's and the students' screens under artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import shot


def join(page, server: str, code: str, nickname: str) -> None:
    page.goto(f"{server}/join?code={code}&lang=ko")
    page.fill("#join-nickname", nickname)
    page.click("#join-form button")
    expect(page.locator("#join")).to_have_attribute("data-status", "following", timeout=10_000)


def at_step(page, step: int) -> None:
    expect(page.locator("#join-state")).to_contain_text(f"step{step}", timeout=10_000)


def test_a_teacher_and_three_students_follow_explore_and_reveal(server, new_page) -> None:
    teacher, teacher_log = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{server}/teach?lang=ko")
    teacher.click("#teach-open")
    expect(teacher.locator(".room-code")).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{6}$"), timeout=10_000)
    code = teacher.locator(".room-code").inner_text()
    expect(teacher.locator(".room-qr")).to_have_js_property("complete", True)
    assert teacher.locator(".room-qr").evaluate("img => img.naturalWidth") > 100  # the server's SVG drew
    next_step = teacher.locator("#teach-next")
    next_step.click()
    expect(teacher.locator("#teach-step-value")).to_have_text("1")

    students = [new_page(locale="ko-KR", width=1280, height=720) for _ in range(2)]
    students.append(new_page(locale="ko-KR", width=390, height=844))
    for i, (page, _) in enumerate(students[:2]):
        join(page, server, code, f"학생{i}")
        at_step(page, 1)
    for _ in range(3):
        next_step.click()
    expect(teacher.locator("#teach-step-value")).to_have_text("4")
    for page, _ in students[:2]:
        at_step(page, 4)
    late, _ = students[2]
    join(late, server, code, "늦게 온 학생")  # lands where the class is, not at the start
    at_step(late, 4)
    expect(teacher.locator(".room-counts")).to_contain_text("접속 3명")

    explorer, _ = students[0]
    explorer.click("#join-toggle")
    expect(explorer.locator("#join")).to_have_attribute("data-status", "exploring")
    expect(teacher.locator(".room-counts")).to_contain_text("혼자 살펴보는 중 1명")
    next_step.click()
    at_step(students[1][0], 5)
    expect(explorer.locator("#join-state")).to_contain_text("step4")  # detached: keeps its own view
    explorer.click("#join-toggle")
    at_step(explorer, 5)  # following again: the latest state at once
    expect(teacher.locator(".room-counts")).to_contain_text("혼자 살펴보는 중 0명")

    teacher.fill("#teach-question", "q-vanish")
    teacher.click("#teach-ask")
    for (page, _), value in zip(students, ["12", "12", "3"], strict=True):
        expect(page.locator("#join-question")).to_be_visible(timeout=10_000)
        page.fill("#join-question input", value)
        page.click("#join-question button")
        expect(page.locator("#join-question")).to_have_attribute("data-sent", "true")
    expect(teacher.locator("#teach-answers li")).to_have_text(["12 · 2", "3 · 1"], timeout=10_000)
    students[0][0].fill("#join-question input", "3")  # a changed mind: the last answer counts
    students[0][0].click("#join-question button")
    expect(teacher.locator("#teach-answers li")).to_have_text(["3 · 2", "12 · 1"], timeout=10_000)
    teacher.click("#teach-reveal")
    for page, log in students:
        expect(page.locator("#join-reveal li")).to_have_text(["3 · 2", "12 · 1"], timeout=10_000)
        assert not log.console_errors()
    assert not teacher_log.console_errors()
    shot(teacher, "rooms-teacher-ko-1280", full_page=False)
    shot(students[1][0], "rooms-student-ko-1280", full_page=False)
    shot(late, "rooms-student-ko-390")
    fresh, _ = new_page(locale="ko-KR", width=390, height=844)
    fresh.goto(f"{server}/teach?lang=ko")
    fresh.click("#teach-open")
    expect(fresh.locator(".room-code")).to_be_visible()
    shot(fresh, "rooms-teacher-ko-390")
