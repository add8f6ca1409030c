"""schemathesis over the OpenAPI document, bounded (15 examples per operation, derandomised so CI sees
the same cases every run): no 5xx, every status code documented, every answer (and every SSE event)
as its schema says. The trace budget is lowered so a generated heavy knob set is a quick 422."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings

APP = create_app(Settings(device="cpu", workers=1, max_trace_gmacs=2, client_rate=0, lab_workers=1,
                          lab_client_runs=1000, lab_max_runs=10_000, lab_grace_s=0))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case):
    case.call_and_validate(checks=CHECKS)
