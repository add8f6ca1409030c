"""Helpers shared by the browser tests: waiting for the bench, keys, screenshots under artifacts/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


def wait_ready(page, timeout: float = 30_000) -> None:
    """The trace has arrived completely and every visible figure has been drawn from it."""
    page.wait_for_function("() => window.unrolledBench && window.unrolledBench.ready", timeout=timeout)


def settle(page) -> None:
    """Wait for the animation frame that draws the last change (figures batch redraws per frame)."""
    page.wait_for_function("() => window.unrolledBench && !window.unrolledBench.pending")


def press(page, key: str, times: int = 1) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")  # keys in a knob field stay there
    for _ in range(times):
        page.keyboard.press(key)
    settle(page)


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the transport bar is sticky: shoot from the top
    page.wait_for_timeout(100)
    page.screenshot(path=str(path), full_page=full_page)
    return path
