"""GET /bench without a browser: the whole page, the htmx partial, the URL carried into the form."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from app.main import create_app


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


def test_assets_load_from_a_cdn_with_local_copies_behind_them():
    with client() as c:
        html = c.get("/bench").text
        assert "https://cdn.jsdelivr.net/npm/htmx.org@" in html and "/vendor/htmx/htmx.min.js" in html
        assert "plotly.js-cartesian-dist-min@" in html and "/vendor/plotly/plotly-cartesian.min.js" in html
        assert '<script type="module" src="/static/js/pages/bench.js"></script>' in html
        for local in ("/vendor/htmx/htmx.min.js", "/vendor/plotly/plotly-cartesian.min.js", "/static/js/pages/bench.js",
                      "/static/js/core/figure.js", "/static/js/panels/grad-one-loss.js"):
            r = c.get(local)
            assert r.status_code == 200 and len(r.content) > 1000


def test_without_the_cdn_the_page_names_only_local_copies():
    from app.settings import Settings

    with TestClient(create_app(Settings(use_cdn=False))) as c:
        html = c.get("/bench").text
    assert "cdn." not in html
    assert 'src="/vendor/htmx/htmx.min.js"' in html and 'src="/vendor/plotly/plotly-cartesian.min.js"' in html


def test_the_bench_lists_at_most_the_apis_layers_and_heads_whatever_the_url_says():
    with client() as c:
        page = c.get("/bench", params={"arch": "transformer", "layers": 1_000_000, "heads": 100_000})
        assert page.status_code == 200 and len(page.content) < 200_000
        assert page.text.count('data-view="head"') >= 1
        options = page.text.split('id="select-head"')[1].split("</select>")[0].count("<option")
        assert options == 8  # models.limits.HEADS
