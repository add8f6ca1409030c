"""Security headers: a strict CSP, nosniff and Referrer-Policy on every answer (pages, the API docs, the
JSON API, streams, static files, errors); no inline code in any page the CSP would have to allow; the
API docs from local copies; the CDN named file by file when opted in; trusted hosts."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.http import vendor_versions
from app.lessons import load_lessons
from app.main import create_app
from app.pages import assets
from app.settings import Settings

KNOBS = {"arch": "rnn", "text": "hello", "hidden_size": 8}
LESSON = f"/lessons/{load_lessons().lessons[0].slug}"
PAGES = ("/", LESSON, "/glossary", "/bench", "/docs", "/redoc")
OTHERS = ("/api/status", "/api/architectures", "/openapi.json", "/static/favicon.svg",
          "/api/trace.json?arch=rnn&text=hello&hidden_size=8", "/api/trace.json?hidden_size=100000", "/nowhere")


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    header = response.headers["content-security-policy"]
    return dict(d.strip().partition(" ")[::2] for d in header.split(";"))


def assert_strict(response, path: str) -> dict[str, str]:
    csp = policy(response)
    assert csp["default-src"] == "'self'", path
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'self'", path
    assert csp["frame-ancestors"] == "'self'" and csp["form-action"] == "'self'", path
    assert csp["img-src"] == "'self' data: blob:", path
    assert "unsafe-eval" not in response.headers["content-security-policy"], path
    assert "'unsafe-inline'" not in csp["script-src"], path
    assert response.headers["x-content-type-options"] == "nosniff", path
    assert response.headers["referrer-policy"] == "same-origin", path
    return csp


def inline_scripts(html: str) -> list[str]:
    """The bodies of the <script> elements a browser would run inline (no src, a script type)."""
    out = []
    for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I):
        kind = re.search(r'type="([^"]*)"', attrs)
        if "src=" not in attrs and (kind is None or kind.group(1) in ("module", "text/javascript")):
            out.append(body)
    return out


def test_every_page_and_answer_carries_the_headers(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = assert_strict(response, path)
        if path != "/docs":
            assert csp["script-src"] == "'self'", path
    for path in OTHERS:
        response = client.get(path)
        assert_strict(response, path)
        assert policy(response)["script-src"] == "'self'", path
    assert client.get("/api/trace.json?hidden_size=100000").status_code == 422
    assert client.get("/nowhere").status_code == 404
    # scripts and style sheets are not documents: no policy (it would do nothing), the other two stay
    for path in ("/static/js/boot.js", "/static/css/bench.css"):
        response = client.get(path)
        assert "content-security-policy" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
    posted = client.post("/api/trace", json=KNOBS)
    assert posted.status_code == 200
    assert_strict(posted, "POST /api/trace")
    with client.stream("GET", "/api/trace/stream", params=KNOBS) as stream:  # headers go out before the body
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert_strict(stream, "/api/trace/stream")


def test_no_page_holds_inline_code_for_the_policy_to_allow(client):
    for path in PAGES:
        html = client.get(path).text
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, flags=re.I), path  # onload=, onerror=, onclick= ...
        assert "javascript:" not in html.lower(), path
        scripts = inline_scripts(html)
        assert len(scripts) == (1 if path == "/docs" else 0), (path, scripts)
    # get_swagger_ui_html starts Swagger UI inline: /docs allows exactly that script, by its hash
    docs = client.get("/docs")
    (body,) = inline_scripts(docs.text)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert policy(docs)["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy(client.get("/redoc"))["worker-src"] == "'self' blob:"  # ReDoc's search worker


def test_the_api_docs_load_only_local_versioned_copies(client):
    versions = vendor_versions()
    swagger, redoc = (f"/vendor/{name}@{versions[package]}" for name, package in
                      (("swagger-ui", "swagger-ui-dist"), ("redoc", "redoc")))
    docs, alt = client.get("/docs").text, client.get("/redoc").text
    assert f'src="{swagger}/swagger-ui-bundle.js"' in docs and f'href="{swagger}/swagger-ui.css"' in docs
    assert f'src="{redoc}/redoc.standalone.js"' in alt
    for html in (docs, alt):
        assert "https://" not in html, html  # no CDN, no Google Fonts, no remote favicon
    for url in (f"{swagger}/swagger-ui-bundle.js", f"{swagger}/swagger-ui.css", f"{redoc}/redoc.standalone.js"):
        response = client.get(url)
        assert response.status_code == 200 and len(response.content) > 100_000, url
        assert "immutable" in response.headers["cache-control"], url
        assert response.headers["x-content-type-options"] == "nosniff", url


def test_frame_ancestors_come_from_the_setting():
    with TestClient(create_app(Settings(device="cpu", frame_ancestors="'none'"))) as c:
        for path in ("/bench", "/docs", "/api/status"):
            assert policy(c.get(path))["frame-ancestors"] == "'none'", path
    with pytest.raises(ValidationError):  # a directive smuggled in through the setting
        Settings(frame_ancestors="'self'; script-src *")


def test_the_cdn_is_allowed_file_by_file_only_when_opted_in(client):
    assert "cdn.jsdelivr.net" not in client.get("/bench").headers["content-security-policy"]
    with TestClient(create_app(Settings(device="cpu", use_cdn=True))) as c:
        for path in ("/bench", LESSON):
            sources = policy(c.get(path))["script-src"].split()
            assert sources == ["'self'", assets()["htmx"]["cdn"], assets()["plotly"]["cdn"]], path
            assert all(s == "'self'" or s.endswith(".min.js") for s in sources)  # files, never the whole host


def test_trusted_hosts_answer_only_their_names(monkeypatch):
    with TestClient(create_app(Settings(device="cpu"))) as c:  # the default answers any Host
        assert c.get("/api/status", headers={"Host": "anything.example"}).status_code == 200
    monkeypatch.setenv("UNROLLED_TRUSTED_HOSTS", "unrolled.school.lan, *.lab.lan")
    settings = Settings(device="cpu")
    assert settings.trusted_hosts == ["unrolled.school.lan", "*.lab.lan"]
    with TestClient(create_app(settings)) as c:
        for host in ("unrolled.school.lan", "unrolled.school.lan:8000", "room4.lab.lan"):
            assert c.get("/api/status", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", "unrolled.school.lan.evil.example", "127.0.0.1"):
            refused = c.get("/bench", headers={"Host": host})
            assert refused.status_code == 400, host
            assert_strict(refused, host)
