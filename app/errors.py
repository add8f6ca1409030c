"""Knob errors found after request validation (cross-field, settings limits, the engine's own checks).

They answer 422 in the same shape as FastAPI's validation errors, with the field in `loc`, so a client
handles every bad knob one way.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class KnobError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def knob_error_response(request: Request, exc: KnobError) -> JSONResponse:
    where = "query" if request.method == "GET" else "body"
    detail = [{"type": "value_error", "loc": [where, exc.field], "msg": f"{exc.field}: {exc.message}"}]
    return JSONResponse({"detail": detail}, status_code=422)
