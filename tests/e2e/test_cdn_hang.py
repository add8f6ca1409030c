"""A CDN that hangs instead of failing (bad classroom wifi, a firewall that drops packets): with
UNROLLED_USE_CDN=true and the CDN's host resolved to a local socket that accepts connections and never
answers, the bench and a lesson render and become ready from the local copies, well before the hang
would end (it never does), with no console error and nothing asked of any other host."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from app.lessons import load_lessons
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LOOPBACK, PageLog, running_server
from tests.e2e.helpers import shot
from tests.e2e.test_lessons import READY as LESSON_READY

CDN_HOST = "cdn.jsdelivr.net"
LESSON = load_lessons().lessons[0].slug
# boot.js gives a CDN copy this long (data-timeout in base.html) before the local one takes over; the
# page is then ready in what the local load takes (the server runs on loopback, the trace is small)
FALLBACK_S = 3.0
READY_WITHIN_S = FALLBACK_S + 12


class Sinkhole:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed at teardown
                return
            self.accepted.append(conn)  # held open, unread: the TLS handshake never gets an answer

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture(scope="module")
def sinkhole() -> Iterator[Sinkhole]:
    hole = Sinkhole()
    yield hole
    hole.close()


@pytest.fixture(scope="module")
def cdn_server() -> Iterator[str]:
    with running_server("e2e-cdn-hang-server.log", UNROLLED_USE_CDN="true") as base:
        yield base


@pytest.fixture(scope="module")
def hanging_browser(sinkhole, playwright_session):
    """Chromium with the CDN's host resolved to the sinkhole (every port of it: 443 included)."""
    b = playwright_session.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, f"--host-resolver-rules=MAP {CDN_HOST} 127.0.0.1:{sinkhole.port}"])
    yield b
    b.close()


def open_page(browser, url: str, ready: str, name: str) -> tuple[float, PageLog, list[str]]:
    """Open url and wait for ready; (seconds it took, the page's log, the off-loopback hosts it asked)."""
    ctx = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 720})
    log = PageLog()
    asked: list[str] = []
    page = ctx.new_page()
    page.on("console", lambda m: log.console.append((m.type, m.text, m.location.get("url", ""))))
    page.on("pageerror", lambda e: log.errors.append(str(e)))
    page.on("request", lambda r: asked.append(r.url) if urlsplit(r.url).hostname not in LOOPBACK else None)
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        # ready, and both libraries running (a lesson's figures may be done before plotly.js draws them)
        # htmx started, not only loaded: its start adds its indicator styles (a copy that ran after
        # DOMContentLoaded would otherwise wait for that event forever, and the knob form would be dead)
        started = "[...document.querySelectorAll('style')].some((s) => s.textContent.includes('htmx-indicator'))"
        page.wait_for_function(f"() => ({ready})() && typeof window.htmx === 'object' && {started} && "
                               "typeof window.Plotly === 'object' && document.querySelector('.js-plotly-plot')",
                               timeout=READY_WITHIN_S * 1000)
        took = time.perf_counter() - start
        # the local copies ran: from this server's /vendor, not the hanging host
        loaded = page.evaluate("performance.getEntriesByType('resource').map(r => r.name)")
        assert any("/vendor/plotly" in u and urlsplit(u).hostname in LOOPBACK for u in loaded)
        assert any("/vendor/htmx" in u and urlsplit(u).hostname in LOOPBACK for u in loaded)
        shot(page, name, full_page=False)
        page.wait_for_timeout(300)  # a late error would land here
        return took, log, asked
    finally:
        ctx.close()


def test_a_hanging_cdn_never_holds_up_the_bench_or_a_lesson(cdn_server, sinkhole, hanging_browser):
    took, log, asked = open_page(hanging_browser, f"{cdn_server}/bench?lang=ko",
                                 "() => window.unrolledBench && window.unrolledBench.ready", "cdn-hang-bench-ko")
    assert sinkhole.accepted, "the CDN was never tried: the test proves nothing"
    assert {urlsplit(u).hostname for u in asked} == {CDN_HOST}
    assert {u.rsplit("/", 1)[1] for u in asked} == {"htmx.min.js", "plotly-cartesian.min.js"}
    assert log.console_errors() == []
    assert took < READY_WITHIN_S
    print(f"bench ready in {took:.2f} s with the CDN hanging")

    took, log, asked = open_page(hanging_browser, f"{cdn_server}/lessons/{LESSON}?lang=ko", LESSON_READY,
                                 "cdn-hang-lesson-ko")
    assert {urlsplit(u).hostname for u in asked} <= {CDN_HOST}
    assert log.console_errors() == []
    print(f"lesson ready in {took:.2f} s with the CDN hanging")
