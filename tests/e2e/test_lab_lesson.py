"""Lesson 9's memory race in chromium (network cut off), in Korean: the runs' curves are the answer to the
figure's predict-then-reveal questions, so while a prediction on the figure is open nothing of the runs
is drawn or described (the plots say to lock in first), even with the training started; once both are
locked in the curves appear; when the runs have finished each one gets an "open in the bench" link, and
the LSTM's opens the bench on its weights, reading the adding task's numbers. Screenshots of the figure
at 1280 x 720 and 390 px wide into /tmp/lab-shots/, looked at. Every wait is on the page's state."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_lab_page import _adding_in_the_bench

SHOTS = Path("/tmp/lab-shots")
FIGURE = "[data-figure=race]"
CURVES = """() => ['lab-loss', 'lab-distance'].map((id) => {
    const el = document.querySelector(`[data-figure=race] [data-panel=${id}]`);
    return (el.data || []).filter((d) => d.x && d.x.length).length; })"""
LAB = "(fn) => fn(window.unrolledLesson.figures.get('race').sides[0].source.trace)"


def test_lesson_9_hides_the_race_until_the_predictions_are_locked_and_links_each_run_to_the_bench(new_page, server):
    page, log = new_page(locale="ko-KR", width=1280, height=720)
    slug = next(p.name for p in Path("lessons").iterdir() if p.name.startswith("09-"))
    page.goto(f"{server}/lessons/{slug}?lang=ko")
    page.wait_for_function("() => window.unrolledLesson && window.unrolledLesson.figures.get('race')")
    fig = page.locator(FIGURE)
    fig.scroll_into_view_if_needed()
    fig.locator('[data-lab="start"]').click()  # training before any prediction: it runs, nothing of it shows
    page.wait_for_function(f"() => ({LAB})((t) => t.runs.some((r) => r.series.step.length >= 2))", timeout=60_000)
    page.wait_for_function(f"() => ({LAB})((t) => t.concealed === true)")
    assert page.evaluate(CURVES) == [0, 0]
    concealed = page.evaluate("window.unrolledLesson.figures.get('race').page.strings.lesson_lab_concealed")
    assert concealed in fig.locator("[data-describe]").inner_text()
    assert concealed.split(".")[0][:10] in fig.locator("[data-panel=lab-loss]").inner_text()
    assert fig.locator("[data-lab-bench]").is_hidden()
    SHOTS.mkdir(parents=True, exist_ok=True)
    fig.screenshot(path=str(SHOTS / "lesson9-concealed-ko-1280.png"))

    for question in ("baseline", "far"):  # lock in both predictions on this figure
        q = page.locator(f'[data-question="{question}"]')
        if q.get_attribute("data-kind") != "number":
            q.locator("[data-guess]").first.check()
        q.locator("[data-commit]").click()
        if question == "baseline":  # one of two locked in: still hidden
            assert page.evaluate(f"() => ({LAB})((t) => t.concealed)") is True
    page.wait_for_function(f"() => ({CURVES})().every((n) => n >= 1)", timeout=30_000)
    assert page.evaluate(f"() => ({LAB})((t) => t.concealed)") is False

    page.wait_for_function("() => document.querySelector('[data-figure=race]').dataset.state === 'done'",
                           timeout=180_000)
    page.wait_for_function("() => document.querySelectorAll('[data-figure=race] [data-lab-bench] a').length === 4",
                           timeout=30_000)
    links = fig.locator("[data-lab-bench] a")
    ids = page.evaluate(f"() => ({LAB})((t) => t.runs.map((r) => r.id))")
    hrefs = [links.nth(i).get_attribute("href") for i in range(4)]
    for run_id, href in zip(ids, hrefs, strict=True):
        assert f"checkpoint=run%3A{run_id}" in href and "lang=ko" in href
    assert links.nth(2).inner_text() == "벤치에서 실행 3 보기"
    fig.scroll_into_view_if_needed()
    fig.screenshot(path=str(SHOTS / "lesson9-race-ko-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390")
    fig.screenshot(path=str(SHOTS / "lesson9-race-ko-390.png"))
    page.set_viewport_size({"width": 1280, "height": 720})
    with page.context.expect_page() as popup:
        links.nth(2).click()  # the LSTM
    _adding_in_the_bench(popup.value, ids[2])
    assert log.console_errors() == []
