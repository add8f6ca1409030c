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


# The rules across the trace knobs that the server enforces and no single field's schema can say, as
# (the 422's error type, the field it names, the rule). Every operation taking the knobs lists them
# (x-cross-field-rules) and says them in its description. tests/app/test_fuzz.py checks that a knob set
# valid by the document is refused only by one of these. (A query string's parameters share no schema,
# so JSON Schema could state them for the JSON body only, with if/then; schemathesis generates nothing
# from such a body schema, so the document lists them instead.)
CROSS_FIELD_RULES: tuple[tuple[str, str | None, str], ...] = (
    ("knob_layers_range", "layers", "rnn, lstm, gru and sgru take 1 to {recurrent} layers; the transformer 1 to {tf}"),
    ("knob_heads_divide", "heads", "a transformer without a checkpoint: heads must divide d_model"),
    ("knob_clip_threshold_required", "clip_threshold", "clip_mode norm or value needs a clip_threshold"),
    ("knob_checkpoint_unknown", "checkpoint", "a checkpoint is a pretrained model of the same arch "
     "(GET /api/architectures lists them), run:<id>[@<step>] of a lab run or upload:<hash> of an uploaded model"),
    ("knob_memory_gone", "checkpoint", "a run: or upload: checkpoint is one this server still holds"),
    ("knob_lab_run_arch", "checkpoint", "a lab run's checkpoint is traced with the run's own arch"),
    ("knob_text_vocab", "text", "with a checkpoint, every character of text is in its vocabulary"),
    ("knob_engine", None, "the model refuses the input (its message says why)"),
    ("knob_text_server_max", "text", "text is at most the server's UNROLLED_MAX_TEXT_LENGTH characters"),
    ("knob_hidden_server_max", "hidden_size", "hidden_size is at most the server's UNROLLED_MAX_HIDDEN_SIZE"),
    ("knob_transformer_missing", "arch", "the transformer needs its module installed on the server"),
    ("knob_cost", None, "the knob set's estimated multiply-adds are within the server's UNROLLED_MAX_TRACE_GMACS"),
)


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
    """The OpenAPI document with CROSS_FIELD_RULES on each operation that takes the trace knobs, and
    no header said to be null."""
    assert all(limits.LAYERS[a] == limits.LAYERS["rnn"] for a in RECURRENT)  # one maximum for the recurrent
    rules = [{"type": code, "field": field, "rule": rule.format(recurrent=limits.LAYERS["rnn"],
                                                               tf=limits.LAYERS["transformer"])}
             for code, field, rule in CROSS_FIELD_RULES]
    prose = "\n\nRules across the knobs (a 422 of this type names the field):\n" + "\n".join(
        f"- `{r['type']}` ({r['field'] or 'the knob set'}): {r['rule']}" for r in rules)
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            _headers_are_never_null(op)
            names = {p.get("name") for p in op.get("parameters", [])}
            if {"heads", "d_model", "clip_mode"} <= names or "KnobBody" in str(op.get("requestBody", "")):
                op["x-cross-field-rules"] = rules
                op["description"] = op.get("description", "").rstrip() + prose
    return spec


def add_docs(app: FastAPI, settings: Settings) -> None:
    """GET /docs and /redoc on `app` (made with docs_url=None, redoc_url=None), each with its own CSP;
    the document (/openapi.json) states the rules across the trace knobs."""
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
