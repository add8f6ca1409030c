"""Browser tests: a real uvicorn on 127.0.0.1 (free port) and Debian's chromium driven by Playwright.

The network is unreachable for the page: every request that is not to the loopback server is aborted,
so the CDN copies of htmx and plotly.js fail and the page must run on its local fallbacks.
Screenshots go to artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import ARTIFACTS, ROOT

CHROMIUM = os.environ.get("UNROLLED_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(log_name: str, **env: str) -> Iterator[str]:
    """`uvicorn app.main:app` on 127.0.0.1 and a free port with these UNROLLED_* settings, once /bench
    answers 200; its output goes to artifacts/<log_name>. Yields the base URL."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "UNROLLED_WORKERS": "2", **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/bench", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start; see {ARTIFACTS / log_name}")
        time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    with running_server("e2e-server.log") as base:
        yield base


@pytest.fixture(scope="session")
def playwright_session():
    """The one Playwright of the run (a second sync_playwright inside the first's loop refuses to start);
    a test that needs a browser launched with other flags launches it from here."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh --browser (apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_session):
    b = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class PageLog:
    """What the page said: console messages, uncaught errors, and the off-loopback requests it tried."""

    def __init__(self) -> None:
        self.console: list[tuple[str, str, str]] = []
        self.errors: list[str] = []
        self.blocked: list[str] = []

    def console_errors(self) -> list[str]:
        """Console errors, less the 'failed to load' of the blocked CDN requests (the designed fallback)."""
        out = []
        for kind, text, url in self.console:
            if kind != "error":
                continue
            if text.startswith("Failed to load resource") and url in self.blocked:
                continue
            out.append(f"{text} ({url})")
        return out + [f"uncaught: {e}" for e in self.errors]


def _route(log: PageLog):
    def handle(route):
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort("internetdisconnected")

    return handle


@pytest.fixture
def new_page(browser):
    """new_page(locale='en-US') -> (page, log): a fresh context with the network cut off."""
    contexts = []

    def make(locale: str = "en-US", width: int = 1600, height: int = 1000):
        ctx = browser.new_context(locale=locale, viewport={"width": width, "height": height}, accept_downloads=True)
        contexts.append(ctx)
        log = PageLog()
        ctx.route("**/*", _route(log))
        page = ctx.new_page()
        page.on("console", lambda m: log.console.append((m.type, m.text, m.location.get("url", ""))))
        page.on("pageerror", lambda e: log.errors.append(str(e)))
        return page, log

    yield make
    for ctx in contexts:
        ctx.close()
