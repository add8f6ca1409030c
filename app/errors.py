"""Bad knobs answer 422 in FastAPI's shape, with the field in `loc`, and a sentence in the request's language.

Every error has a `type`: pydantic's own (less_than_equal, literal_error ...) or `knob_<code>` for the
checks made after validation (KnobError: cross-field, settings limits, the engine's own checks). Its
sentence comes from the `err_<type>` templates in static/i18n/{ko,en}/errors.json, filled from `ctx`,
and is prefixed with the knob's label in that language, so a Korean page shows no English sentence.

Language: `?lang=`, then the `lang` cookie, then Accept-Language; English when nothing matches (the
API's callers are tools as often as pages; every page sends its language).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from app.i18n import LANG_COOKIE, LANGS, load_strings


class KnobError(ValueError):
    """field: the knob at fault, or None when the knob set as a whole is (its cost): loc is then the body
    or the query itself."""

    def __init__(self, field: str | None, code: str, **ctx: Any) -> None:
        super().__init__(f"{field}: {code} {ctx}")
        self.field, self.code, self.ctx = field, code, ctx


def request_lang(request: Request) -> str:
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGS:
            return choice
    for part in request.headers.get("accept-language", "").split(","):
        code = part.strip()[:2].lower()
        if code in LANGS:
            return code
    return "en"


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"  # an echoed input stays a hint, not a copy


def _short(value: Any) -> Any:
    """An echoed input as a short prefix: a long string cut to 40 characters, a list or object longer
    than 80 characters of JSON as the start of that JSON (a 16 kB body is not sent back whole)."""
    if isinstance(value, str):
        return value if len(value) <= 40 else value[:40] + "…"
    if isinstance(value, dict | list):
        text = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, default=str)
        return value if len(text) <= 80 else text[:80] + "…"
    return value


def error_sentence(error: dict[str, Any], lang: str) -> str:
    """'<label>: <sentence>' for one error dict (type, loc, ctx, input) in `lang`."""
    t = load_strings(lang)
    loc = list(error.get("loc") or [])
    position = loc.pop() if loc and isinstance(loc[-1], int) else None  # malformed JSON: ["body", 17]
    field = str(loc[-1]) if loc else ""  # "body" or "query" itself when the whole of it is at fault
    # the choices (expected) are ours, not an echoed input: never cut (five architectures run past 40 characters)
    ctx = {k: str(v) if k == "expected" else _show(v) for k, v in (error.get("ctx") or {}).items()}
    if position is not None:
        ctx.setdefault("position", str(position))
    ctx.setdefault("input", _show(error.get("input", "")))
    if "expected" in ctx and lang != "en":  # pydantic writes "'a', 'b' or 'c'": the choices, without the English
        ctx["expected"] = re.sub(r"\s+or\s+", ", ", ctx["expected"])
    limit = next((ctx[k] for k in ("le", "ge", "gt", "lt", "min_length", "max_length", "limit") if k in ctx), "")
    template = t.get(f"err_{error['type']}") or t["err_invalid"]
    sentence = template.format_map(_Blank({**ctx, "limit": limit, "field": field}))
    label = t.get(f"knob_{field}", field)
    return f"{label}: {sentence}" if label else sentence


def _finite(data: Any) -> Any:
    """NaN and infinities as text: they are not JSON (an echoed `clip_threshold: NaN` must stay valid)."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return data


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _response(request: Request, errors: list[dict[str, Any]]) -> Response:
    lang = request_lang(request)
    detail = []
    for error in errors:
        error = {k: v for k, v in error.items() if k != "url"}
        error["msg"] = error_sentence(error, lang)
        if "input" in error:
            error["input"] = _short(error["input"])
        if error.get("ctx"):
            error["ctx"] = {k: _short(v) for k, v in error["ctx"].items()}
        detail.append(error)
    # ASCII: an echoed input with a lone surrogate would fail UTF-8 encoding and turn the answer into a 500
    body = json.dumps({"detail": detail}, ensure_ascii=True, allow_nan=False, default=str)
    return Response(body, status_code=422, media_type="application/json", headers={"Content-Language": lang})


def knob_error_response(request: Request, exc: KnobError) -> Response:
    where = "query" if request.method == "GET" else "body"
    loc = [where] if exc.field is None else [where, exc.field]
    error = {"type": f"knob_{exc.code}", "loc": loc, "ctx": exc.ctx}
    return _response(request, [error])


def validation_error_response(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422 with sentences in the request's language. The query knobs are validated once per
    dependency that reads them, so the same error can be reported twice: each is listed once."""
    errors, seen = [], set()
    for error in jsonable_encoder(exc.errors()):
        error = _finite(error)
        key = json.dumps(error, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            errors.append(error)
    return _response(request, errors)


def refused_response(request: Request, exc: Exception) -> Response:
    """app.fair.Refused: 429 (this client asked for too much) or 503 (the server is full), with
    Retry-After and a sentence in the request's language; FastAPI's {"detail": ...} shape."""
    lang = request_lang(request)
    status, reason, retry_after = exc.status, exc.reason, exc.retry_after  # type: ignore[attr-defined]
    t = load_strings(lang)
    sentence = (t.get(f"err_busy_{reason}") or t["err_busy_busy"]).format_map(_Blank(retry_after=retry_after))
    body = json.dumps({"detail": sentence, "reason": reason, "retry_after": retry_after}, ensure_ascii=True)
    headers = {"Retry-After": str(retry_after), "Content-Language": lang}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def http_error_response(request: Request, exc: Exception) -> Response:
    """FastAPI answers a body it cannot decode (bytes that are not UTF-8) with a bare 400; that is a
    malformed body like any other: 422 `body_encoding` naming the body, in the request's language."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and str(exc.detail).startswith("There was an error parsing the body"):
        return _response(request, [{"type": "body_encoding", "loc": ["body"]}])
    return await http_exception_handler(request, exc)
