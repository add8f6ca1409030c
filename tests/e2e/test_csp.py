"""The CSP in chromium, with the network cut off: the index, a lesson (its figures drawn, one step), the
glossary, the bench (a step, a knob change through htmx, a PNG export), Swagger UI (one call tried out)
and ReDoc run with zero `securitypolicyviolation` events and zero console errors, and ask nothing of
any host but the server. Once on the local copies, once with UNROLLED_USE_CDN=true and the CDN refused
(the local fallbacks take over). On each page an injected inline script is refused at the end: the
policy is live, not just absent.
"""

from __future__ import annotations

import pytest

from app.lessons import load_lessons
from tests.e2e.conftest import running_server
from tests.e2e.helpers import press, shot, wait_ready
from tests.e2e.test_lessons import READY as LESSON_READY

LESSON = load_lessons().lessons[0].slug
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}));
"""
# an inline script injected into the page: the policy must refuse it (and report it)
CANARY = """() => { window.__canary = false; const s = document.createElement('script');
  s.textContent = 'window.__canary = true'; document.body.append(s); return window.__canary; }"""
# ReDoc's side menu shows Redocly's logo from cdn.redoc.ly, hard-coded in its bundle (no option turns it
# off): img-src refuses it, and ReDoc hides the broken image. The one report the test lets through.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def cdn_server():
    """A second server with UNROLLED_USE_CDN=true (the conftest's serves the local copies)."""
    with running_server("e2e-cdn-server.log", UNROLLED_USE_CDN="true") as base:
        yield base


def visit(page, log, url: str, exercise, allowed: frozenset[str] = frozenset()) -> str:
    """Open url, run exercise(page), then check the reports and the console; returns the page's CSP."""
    response = page.goto(url)
    csp = response.headers["content-security-policy"]
    exercise(page)
    page.wait_for_timeout(300)  # reports are dispatched as a task after the refused action
    violations = [v for v in page.evaluate("window.__violations") if v["blocked"] not in allowed]
    assert violations == [], (url, violations)
    errors = [e for e in log.console_errors() if not any(a in e for a in allowed)]
    assert errors == [], (url, errors)
    before = len(page.evaluate("window.__violations"))
    with page.expect_console_message(lambda m: m.type == "error" and "inline script" in m.text):
        assert page.evaluate(CANARY) is False, url
    page.wait_for_function("(n) => window.__violations.length > n", arg=before)
    assert [v["directive"] for v in page.evaluate("window.__violations")[before:]] == ["script-src-elem"], url
    log.console.clear()  # the canary's own console error
    return csp


def exercise_index(page) -> None:
    page.wait_for_selector("[data-progress]")


def exercise_glossary(page) -> None:
    page.wait_for_selector(".glossary-table")


def exercise_lesson(page) -> None:
    page.wait_for_function(LESSON_READY, timeout=60_000)
    assert page.evaluate("document.querySelectorAll('.js-plotly-plot').length") > 0
    figure = page.locator("[data-figure]").first
    describe = figure.locator("[data-describe]").text_content()
    figure.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, text]) => el.textContent !== text",
                           arg=[figure.locator("[data-describe]").element_handle(), describe], timeout=5_000)


def exercise_bench(page) -> None:
    wait_ready(page)
    press(page, "ArrowRight")
    with page.expect_download() as info:
        page.click("#panel-hidden button[data-export='png']")
    assert info.value.suggested_filename.endswith(".png")
    page.select_option("#knob-arch", "gru")  # htmx swaps #bench for the new knobs
    page.wait_for_url("**arch=gru**")
    page.wait_for_function("() => (window.unrolledBench.trace?.meta || {}).arch === 'gru'")
    wait_ready(page)


def exercise_swagger(page) -> None:
    block = page.locator(".opblock", has_text="/api/status").first
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    block.locator(".live-responses-table .response-col_status", has_text="200").wait_for()


def exercise_redoc(page) -> None:
    page.get_by_role("heading", name="Post Trace").first.wait_for()


PAGES = (("/", exercise_index), (f"/lessons/{LESSON}", exercise_lesson), ("/glossary", exercise_glossary),
         ("/bench", exercise_bench), ("/docs", exercise_swagger), ("/redoc", exercise_redoc))


def run_pages(new_page, base: str, name: str) -> tuple[list[str], dict[str, str]]:
    page, log = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    policies = {}
    for path, exercise in PAGES:
        allowed = frozenset({REDOC_LOGO}) if path == "/redoc" else frozenset()
        policies[path] = visit(page, log, base + path, exercise, allowed)
        if path in ("/bench", "/docs"):
            shot(page, f"csp-{name}{path.replace('/', '-')}", full_page=False)
    return log.blocked, policies


def test_every_page_runs_under_the_csp_with_no_report_offline(server, new_page):
    blocked, policies = run_pages(new_page, server, "local")
    assert blocked == []  # nothing but the server was asked for anything
    assert all("script-src 'self';" in p or "script-src 'self' 'sha256-" in p for p in policies.values())


def test_with_the_cdn_refused_the_local_copies_take_over_under_the_csp(cdn_server, new_page):
    blocked, policies = run_pages(new_page, cdn_server, "cdn")
    cdn = {u for u in blocked if u.startswith("https://cdn.jsdelivr.net/npm/")}
    assert blocked and set(blocked) == cdn  # the CDN was tried, and it was all that was
    assert {u.rsplit("/", 1)[1] for u in cdn} == {"htmx.min.js", "plotly-cartesian.min.js"}
    assert all(u in policies["/bench"] for u in cdn)  # the policy names the CDN's files
