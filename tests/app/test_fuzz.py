"""schemathesis over the OpenAPI document, bounded (15 examples per operation, derandomised so CI sees
the same cases every run): no 5xx, every status code documented, every answer (and every SSE event)
as its schema says. The trace budget is lowered so a generated heavy knob set is a quick 422.

On every operation, data valid by the document is accepted, or refused only by one of the rules that
the operation states (x-cross-field-rules: app.rules, written out by app.docs): schemathesis'
positive_data_acceptance with those stated refusals let through."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings

APP = create_app(Settings(device="cpu", workers=1, max_trace_gmacs=2, client_rate=0, lab_workers=1,
                          lab_client_runs=1000, lab_max_runs=10_000, lab_grace_s=0))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def stated_refusal(response, rules: list[dict]) -> bool:
    """A 422 whose every error is one of the operation's stated cross-field rules."""
    if response.status_code != 422:
        return False
    try:
        errors = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return False
    stated = {r["type"] for r in rules}
    return bool(errors) and all(isinstance(e, dict) and e.get("type") in stated for e in errors)


@schemathesis.check
def knobs_valid_by_the_document_are_accepted(ctx, response, case):
    """positive_data_acceptance, less the refusals the operation states."""
    if stated_refusal(response, case.operation.definition.raw.get("x-cross-field-rules", [])):
        return None
    return positive_data_acceptance(ctx, response, case)


@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case):
    case.call_and_validate(checks=[*CHECKS, knobs_valid_by_the_document_are_accepted])


def test_the_document_states_the_rules_across_the_fields():
    spec = APP.openapi()
    stating = {(method.upper(), path): {r["type"] for r in op["x-cross-field-rules"]}
               for path, ops in spec["paths"].items() for method, op in ops.items() if "x-cross-field-rules" in op}
    trace = [key for key, types in stating.items() if "knob_heads_divide" in types and "knob_cost" in types]
    assert len(trace) == 6  # POST /api/trace, GET trace.json, trace.csv, trace/summary, trace/params, trace/stream
    assert "heads must divide d_model" in spec["paths"]["/api/trace"]["post"]["description"]
    assert "knob_lab_cost" in stating[("POST", "/api/runs")]
    assert "knob_upload_format" in stating[("POST", "/api/models")]
    assert "shapes_labels_count" in stating[("POST", "/api/shapes/padding")]
    assert "knob_seq2seq_source_len" in stating[("GET", "/api/seq2seq/trace")]
    # what a schema can say, the document says: names from a list, a-z sources (no rule needed for those)
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/seq2seq/trace"]["get"]["parameters"]}
    assert params["source"]["pattern"] == "^[a-z]+$"
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/ar"]["get"]["parameters"]}
    assert params["checkpoint"]["enum"][0].startswith("charlm-")
    for op in (o for ops in spec["paths"].values() for o in ops.values()):  # a header is never null
        assert all("anyOf" not in p["schema"] for p in op.get("parameters", []) if p["in"] == "header")


def test_a_json_body_takes_the_types_the_document_states():
    from fastapi.testclient import TestClient

    knobs = {"arch": "rnn", "text": "hello", "hidden_size": 8}
    with TestClient(APP) as client:
        for wrong in ({"seed": True}, {"seed": "3"}, {"seed": 1.5}, {"identity_init": 1}, {"hidden_size": "8"}):
            r = client.post("/api/trace", json={**knobs, **wrong})
            assert r.status_code == 422, wrong
            assert r.json()["detail"][0]["loc"] == ["body", next(iter(wrong))], wrong
        assert client.post("/api/trace", json={**knobs, "clip_mode": "norm", "clip_threshold": 1}).status_code == 200
        # JSON Schema counts 8.0 as an integer: so does the body
        assert client.post("/api/trace", json={**knobs, "hidden_size": 8.0}).json()["knobs"]["hidden_size"] == 8
