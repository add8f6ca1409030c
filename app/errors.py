"""Knob errors found after request validation (cross-field, settings limits, the engine's own checks).

They answer 422 in the same shape as FastAPI's validation errors, with the field in `loc`, so a client
handles every bad knob one way.
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response


class KnobError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def knob_error_response(request: Request, exc: KnobError) -> JSONResponse:
    where = "query" if request.method == "GET" else "body"
    detail = [{"type": "value_error", "loc": [where, exc.field], "msg": f"{exc.field}: {exc.message}"}]
    return JSONResponse({"detail": detail}, status_code=422)


def validation_error_response(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422, written as ASCII: an echoed input with a lone surrogate would fail UTF-8 encoding
    and turn the answer into a 500. The query knobs are validated once per dependency that reads them,
    so the same error can be reported twice: each is listed once."""
    detail, seen = [], set()
    for error in jsonable_encoder(exc.errors()):
        key = json.dumps(error, sort_keys=True)
        if key not in seen:
            seen.add(key)
            detail.append(error)
    body = json.dumps({"detail": detail}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")
