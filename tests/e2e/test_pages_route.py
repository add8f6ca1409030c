"""GET /bench without a browser: the whole page, the htmx partial, the URL carried into the form."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from app.main import ROOT, create_app


def client() -> TestClient:
    return TestClient(create_app())


def config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="bench-config">(.*?)</script>', html, re.S)[1])


def test_full_page_and_htmx_partial_share_the_bench():
    with client() as c:
        page = c.get("/bench").text
        partial = c.get("/bench", headers={"HX-Request": "true"}).text
    assert page.startswith("<!doctype html>") and '<main id="bench"' in page
    assert "<html" not in partial
    assert '<main id="bench"' in partial
    for panel in ("strip", "hidden", "gates", "probs", "equation", "grad-norm", "grad-one-loss", "grad-flow",
                  "bptt-terms", "jacobian", "clip", "attention", "positional", "compare"):
        assert f'id="panel-{panel}"' in page and f'id="panel-{panel}"' in partial


def test_every_knob_and_the_view_come_from_the_url():
    url = "/bench?arch=gru&text=abcabc&hidden_size=24&layers=2&truncation=3&phase=backward&bstep=4&layer=1&lang=en"
    with client() as c:
        html = c.get(url).text
    cfg = config(html)
    assert cfg["knobs"]["arch"] == "gru" and cfg["knobs"]["text"] == "abcabc"
    assert cfg["knobs"]["hidden_size"] == "24" and cfg["knobs"]["truncation"] == "3"
    assert cfg["view"] == {"phase": "backward", "step": 0, "bstep": 4, "layer": 1, "head": 0, "speed": 4}
    assert 'value="abcabc"' in html and '<option value="gru" selected>' in html
    # knobs that do not apply to a GRU are in the form but disabled, so they stay out of the query
    assert re.search(r'name="activation" id="knob-activation"\s+disabled', html)


def test_language_from_the_url_then_the_browser_then_korean():
    with client() as c:
        assert config(c.get("/bench?lang=en").text)["lang"] == "en"
        assert config(c.get("/bench", headers={"Accept-Language": "en-US,en;q=0.9"}).text)["lang"] == "en"
        assert config(c.get("/bench", headers={"Accept-Language": "fr-FR"}).text)["lang"] == "ko"
        ko = c.get("/bench?lang=ko").text
    assert '<html lang="ko">' in ko and "한 단계 앞으로" in ko


def test_ui_text_exists_in_both_languages():
    from app.i18n import load_strings as load_i18n

    ko, en = load_i18n("ko"), load_i18n("en")
    assert set(ko) == set(en)
    assert all(v.strip() for v in ko.values()) and all(v.strip() for v in en.values())
    # every knob in the form has a label in both languages
    from app.knobs import knob_names

    for name in knob_names():
        assert f"knob_{name}" in ko and f"knob_{name}" in en


def test_pages_load_local_copies_under_versioned_urls_and_name_no_cdn():
    import json as _json

    lock = _json.loads((ROOT / "package-lock.json").read_text())["packages"]
    htmx, plotly = (lock[f"node_modules/{p}"]["version"] for p in ("htmx.org", "plotly.js-cartesian-dist-min"))
    with client() as c:
        for page in ("/bench", "/", "/lessons/05-vanishing", "/glossary"):
            html = c.get(page).text
            assert "cdn." not in html, page
            assert f'<script defer src="/vendor/htmx@{htmx}/htmx.min.js">' in html, page
            assert f'src="/vendor/plotly@{plotly}/plotly-cartesian.min.js"' in html, page
            assert 'rel="icon" href="/static/favicon.svg"' in html, page
        for local in (f"/vendor/htmx@{htmx}/htmx.min.js", f"/vendor/plotly@{plotly}/plotly-cartesian.min.js",
                      "/static/js/pages/bench.js", "/static/js/core/figure.js", "/static/js/panels/grad-one-loss.js",
                      "/static/favicon.svg"):
            r = c.get(local)
            assert r.status_code == 200 and len(r.content) > 200, local
        assert "immutable" in c.get(f"/vendor/htmx@{htmx}/htmx.min.js").headers["cache-control"]


def test_the_cdn_is_opt_in_pinned_by_sri_with_the_local_copy_behind_it():
    import base64
    import hashlib

    from app.settings import Settings

    with TestClient(create_app(Settings(use_cdn=True))) as c:
        html = c.get("/lessons/05-vanishing").text
    local = (ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js").read_bytes()
    sri = "sha384-" + base64.b64encode(hashlib.sha384(local).digest()).decode()
    assert "https://cdn.jsdelivr.net/npm/htmx.org@" in html and f'integrity="{sri}"' in html
    assert html.count('integrity="sha384-') == 2 and html.count('crossorigin="anonymous"') == 2
    assert "<script async src=\"https://cdn" in html  # never blocking, not even DOMContentLoaded, when the CDN hangs
    assert "/vendor/htmx@" in html and "/vendor/plotly@" in html  # the fallbacks


def test_the_bench_lists_at_most_the_apis_layers_and_heads_whatever_the_url_says():
    with client() as c:
        page = c.get("/bench", params={"arch": "transformer", "layers": 1_000_000, "heads": 100_000})
        assert page.status_code == 200 and len(page.content) < 200_000
        assert page.text.count('data-view="head"') >= 1
        options = page.text.split('id="select-head"')[1].split("</select>")[0].count("<option")
        assert options == 8  # models.limits.HEADS
