"""What a page costs on the wire, measured in Debian chromium against a real server on loopback.

Bytes are chromium's encodedDataLength summed over every response (as sent: gzipped, headers included).

first_load_bytes          /bench with its default knobs and everything it loads, cold cache
first_load_assets_bytes   the same without the API's answers: the page, scripts, styles, icons
lesson_first_load_bytes   lesson 1 (Korean), cold cache: its figures trace the trained character model,
                          whose next-character distributions over ~760 characters are most of it
repeat_load_bytes         lesson 1 again, cache warm: versioned assets from the cache, /static/ and the
                          traces revalidated (304)
lab_first_load_bytes      /lab, cold cache, no run started
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

from bench.common import free_port, start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LESSON = "/lessons/01-sequences?lang=ko"


def _bytes_of_load(page, url: str, settle: str) -> tuple[int, int]:
    """(all bytes, bytes of everything but /api/)"""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    received: dict[str, float] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url, wait_until="load")
    page.wait_for_function(settle, timeout=60_000)
    page.wait_for_load_state("networkidle")
    cdp.detach()
    assets = sum(n for rid, n in received.items() if "/api/" not in urls.get(rid, ""))
    return int(sum(received.values())), int(assets)


def run() -> dict[str, float]:
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    figures_drawn = "() => document.querySelectorAll('.js-plotly-plot').length > 0"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            def cold():
                return browser.new_context(viewport={"width": 1280, "height": 720}).new_page()

            bench, bench_assets = _bytes_of_load(cold(), base + "/bench?lang=ko",
                                                 "() => window.unrolledBench && window.unrolledBench.ready")
            page = cold()
            lesson, _ = _bytes_of_load(page, base + LESSON, figures_drawn)
            repeat, _ = _bytes_of_load(page, base + LESSON, figures_drawn)
            lab, _ = _bytes_of_load(cold(), base + "/lab?lang=ko", "() => Boolean(window.unrolledLab)")
            browser.close()
    finally:
        stop_server(server)
    return {"first_load_bytes": bench, "first_load_assets_bytes": bench_assets, "lesson_first_load_bytes": lesson,
            "repeat_load_bytes": repeat, "lab_first_load_bytes": lab}


if __name__ == "__main__":
    json.dump(run(), sys.stdout)
