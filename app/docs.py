"""The API docs, /docs (Swagger UI) and /redoc (ReDoc), from the npm copies create_app serves under
/vendor (FastAPI's own pages take them from a CDN: broken offline, and refused by the CSP).

FastAPI's get_swagger_ui_html starts Swagger UI with an inline <script>. That script is the same for
every request (the spec URL and the UI's options), so /docs allows exactly it by its sha256 hash:
nothing else inline can run, and the page needs no per-response nonce (which would also keep it out
of any cache). ReDoc's search index runs in a worker made from a blob: URL, which /redoc alone allows;
its side menu's Redocly logo comes from their CDN (hard-coded in the bundle): img-src refuses it (one
CSP report per visit) and ReDoc hides the broken image.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.headers import content_security_policy
from app.http import vendor_versions
from app.rules import stated
from app.schemas import RECURRENT
from app.settings import Settings
from models import limits

FAVICON = "/static/favicon.svg"
DOCS_VENDOR = {"/vendor/swagger-ui": "swagger-ui-dist", "/vendor/redoc": "redoc"}  # app.main's VENDOR serves them


def _vendor(mount: str) -> str:
    version = vendor_versions().get(DOCS_VENDOR[mount])
    return f"{mount}@{version}" if version else mount


def _script_hashes(html: str) -> tuple[str, ...]:
    """CSP hash sources of the page's inline scripts (the text between <script> and </script>)."""
    return tuple("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
                 for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S))


def _text(response: HTMLResponse) -> str:
    return bytes(response.body).decode()


def _headers_are_never_null(op: dict[str, Any]) -> None:
    """A header is absent or a string: FastAPI's `int | None` header reads as "integer or null", and a
    client following that sends the text "null" (a 422). The document says "integer", optional."""
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        if param.get("in") == "header" and "anyOf" in schema:
            kept = [s for s in schema["anyOf"] if s.get("type") != "null"]
            if len(kept) == 1:
                param["schema"] = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}


def state_cross_field_rules(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with each operation's rules (app.rules, named by the route) written out, in
    x-cross-field-rules and in its description, and no header said to be null. (A query string's
    parameters share no schema, so JSON Schema could state such rules for a JSON body only, with if/then;
    schemathesis generates nothing from such a body schema, so the document lists them instead.)"""
    assert all(limits.LAYERS[a] == limits.LAYERS["rnn"] for a in RECURRENT)  # one maximum for the recurrent
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            _headers_are_never_null(op)
            codes = op.get("x-cross-field-rules")
            if codes is None:
                continue
            rules = op["x-cross-field-rules"] = [stated(code) for code in codes]
            if rules:
                op["description"] = op.get("description", "").rstrip() + "\n\nRules across the fields (a 422 " \
                    "of this type names the field):\n" + "\n".join(
                        f"- `{r['type']}` ({r['field'] or 'the request'}): {r['rule']}" for r in rules)
    return spec


def add_docs(app: FastAPI, settings: Settings) -> None:
    """GET /docs and /redoc on `app` (made with docs_url=None, redoc_url=None), each with its own CSP;
    the document (/openapi.json) states each operation's rules across its fields."""
    assert app.openapi_url  # create_app keeps /openapi.json
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = state_cross_field_rules(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    swagger = _text(get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.title} · API", swagger_favicon_url=FAVICON,
        swagger_js_url=f"{_vendor('/vendor/swagger-ui')}/swagger-ui-bundle.js",
        swagger_css_url=f"{_vendor('/vendor/swagger-ui')}/swagger-ui.css",
    ))
    redoc = _text(get_redoc_html(
        openapi_url=app.openapi_url, title=f"{app.title} · API", redoc_favicon_url=FAVICON,
        redoc_js_url=f"{_vendor('/vendor/redoc')}/redoc.standalone.js", with_google_fonts=False,
    ))
    swagger_policy = content_security_policy(settings, scripts=_script_hashes(swagger))
    redoc_policy = content_security_policy(settings, workers="'self' blob:")

    @app.get("/docs", include_in_schema=False)
    def get_swagger_page() -> HTMLResponse:
        return HTMLResponse(swagger, headers={"Content-Security-Policy": swagger_policy})

    @app.get("/redoc", include_in_schema=False)
    def get_redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc, headers={"Content-Security-Policy": redoc_policy})
