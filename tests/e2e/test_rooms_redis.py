"""The classroom on Redis in chromium: a teacher on /teach served by one app process, a student on /join
served by another, one real redis-server between them (the fixtures of tests/app/test_rooms_redis.py).
Redis stops mid-class: the student's page says it is reconnecting, the teacher's publish is refused with
a message; Redis comes back: the student follows again and lands on the teacher's next step."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.app.test_rooms_redis import RedisServer, redis_server, two_apps  # noqa: F401  (fixtures)
from tests.e2e.helpers import shot


def test_pages_say_reconnecting_while_redis_is_away_and_recover(two_apps, redis_server: RedisServer,  # noqa: F811
                                                                 new_page) -> None:
    a, b = two_apps
    teacher, _ = new_page(locale="ko-KR", width=1280, height=720)
    teacher.goto(f"{a}/teach?lang=ko")
    teacher.click("#teach-open")
    expect(teacher.locator(".room-code")).to_have_text(re.compile(r"^[2-9A-HJKMNP-Z]{6}$"), timeout=10_000)
    code = teacher.locator(".room-code").inner_text()
    teacher.click("#teach-next")
    expect(teacher.locator("#teach-step-value")).to_have_text("1")

    student, log = new_page(locale="ko-KR", width=390, height=844)
    student.goto(f"{b}/join?code={code}&lang=ko")
    student.click("#join-form button")
    expect(student.locator("#join")).to_have_attribute("data-status", "following", timeout=10_000)
    expect(student.locator("#join-state")).to_contain_text("step1")

    redis_server.stop()
    expect(student.locator("#join")).to_have_attribute("data-status", "reconnecting", timeout=20_000)
    expect(student.locator("#join-status")).to_have_text("다시 연결하는 중…")
    shot(student, "rooms-student-reconnecting-ko-390")
    teacher.click("#teach-next")
    expect(teacher.locator("#teach-error")).to_contain_text("다시 연결하는 중", timeout=20_000)
    expect(teacher.locator("#teach-step-value")).to_have_text("1")  # not published: still step 1

    redis_server.start()
    expect(student.locator("#join")).to_have_attribute("data-status", "following", timeout=20_000)
    expect(student.locator("#join-state")).to_contain_text("step1")  # the snapshot survived the restart
    teacher.click("#teach-next")  # the refused step again: now it goes through
    expect(teacher.locator("#teach-error")).to_have_text("", timeout=20_000)
    expect(teacher.locator("#teach-step-value")).to_have_text("2")
    expect(student.locator("#join-state")).to_contain_text("step2", timeout=10_000)
    assert not log.console_errors()
