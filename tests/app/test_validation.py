"""Every bad knob gets 422 with a message naming the field and its limit, in JSON and in the query."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from app.i18n import load_strings
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import parse_sse

OK = {"arch": "lstm", "text": "hello world", "hidden_size": 8}

BAD = [
    ({"text": "x" * 257}, "text", "at most 256"),
    ({"text": "x"}, "text", "at least 2"),
    ({"hidden_size": 0}, "hidden_size", "greater than or equal to 1"),
    ({"hidden_size": 257}, "hidden_size", "less than or equal to 256"),
    ({"layers": 4}, "layers", "1 to 3"),
    ({"arch": "transformer", "layers": 5}, "layers", "1 to 4"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
    ({"truncation": 0}, "truncation", "greater than or equal to 1"),
    ({"clip_mode": "max"}, "clip_mode", "'norm' or 'value'"),
    ({"clip_mode": "norm"}, "clip_threshold", "required"),
    ({"clip_mode": "norm", "clip_threshold": 0}, "clip_threshold", "greater than 0"),
    ({"arch": "rnn", "spectral_norm": 11}, "spectral_norm", "less than or equal to 10"),
    ({"arch": "rnn", "spectral_norm": -0.5}, "spectral_norm", "greater than or equal to 0"),
    ({"arch": "rnn", "activation": "gelu"}, "activation", "'tanh', 'relu', 'sigmoid' or 'linear'"),
    ({"arch": "cnn"}, "arch", "'rnn', 'lstm', 'gru', 'sgru' or 'transformer'"),
    ({"forget_bias": 11}, "forget_bias", "less than or equal to 10"),
    ({"arch": "transformer", "heads": 9}, "heads", "less than or equal to 8"),
    ({"arch": "transformer", "d_model": 512}, "d_model", "less than or equal to 256"),
]


def _field_error(response, field: str) -> str:
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    named = [e for e in errors if e["loc"][-1] == field]
    assert named, errors
    return named[0]["msg"]


@pytest.mark.parametrize(("knobs", "field", "limit"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_knob_in_json_body_is_422_naming_field_and_limit(client, knobs, field, limit):
    assert limit in _field_error(client.post("/api/trace", json={**OK, **knobs}), field)


@pytest.mark.parametrize(("knobs", "field", "limit"), BAD[:12], ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD[:12])])
def test_bad_knob_in_query_is_422_for_stream_and_csv(client, knobs, field, limit):
    for path in ("/api/trace/stream", "/api/trace.csv"):
        response = client.get(path, params={**OK, **knobs})
        assert limit in _field_error(response, field)
        assert response.headers["content-type"] == "application/json"  # an error, not a broken stream


def test_misspelt_knob_in_json_is_rejected(client):
    assert "Extra inputs" in _field_error(client.post("/api/trace", json={**OK, "hiden_size": 8}), "hiden_size")


def test_non_finite_number_is_rejected(client):
    response = client.get("/api/trace.csv", params={**OK, "arch": "rnn", "spectral_norm": "nan"})
    assert "finite" in _field_error(response, "spectral_norm")


def test_stream_pace_has_limits(client):
    assert "less than or equal to 2000" in _field_error(
        client.get("/api/trace/stream", params={**OK, "interval_ms": 5000}), "interval_ms")


def test_server_settings_tighten_the_limits():
    settings = Settings(max_text_length=10, max_hidden_size=32, device="cpu")
    with TestClient(create_app(settings)) as client:
        assert "at most 10 characters" in _field_error(client.post("/api/trace", json=OK | {"text": "x" * 11}), "text")
        too_wide = client.post("/api/trace", json=OK | {"text": "hello", "hidden_size": 33})
        assert "at most 32" in _field_error(too_wide, "hidden_size")
        knobs = client.get("/api/architectures").json()["architectures"][1]["knobs"]
        assert knobs["text"]["max_length"] == 10 and knobs["hidden_size"]["max"] == 32


def test_engine_value_error_becomes_422_naming_the_field(client, monkeypatch):
    def engine(text, config, options, **_):
        raise ValueError("character 'é' is not in the vocabulary")

    monkeypatch.setattr("app.engine.trace_recurrent", engine)
    msg = _field_error(client.post("/api/trace", json=OK), "text")
    assert "not in this model's vocabulary" in msg


def test_engine_errors_are_not_cached(client, monkeypatch):
    calls = []

    def engine(text, config, options, **_):
        calls.append(text)
        raise ValueError("truncation must be at least 1 (or None for full BPTT)")

    monkeypatch.setattr("app.engine.trace_recurrent", engine)
    for _ in range(2):
        assert "truncation must" in _field_error(client.post("/api/trace", json=OK), "truncation")
    assert len(calls) == 2


@pytest.mark.parametrize("raw", [b'{"text": "\\ud800ab"}', b'{"text": "ab", "bogus": "\\udfff"}'])
def test_lone_surrogates_are_a_422_not_a_500(client, raw):
    response = client.post("/api/trace", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] in ("text", "bogus")


def test_control_characters_are_ordinary_text_and_cannot_break_the_stream(client):
    text = "ab\n\ndata: x\r"
    events = parse_sse(client.get("/api/trace/stream", params={**OK, "text": text}).text)
    assert events[0]["data"]["knobs"]["text"] == text and events[-1]["event"] == "done"
    assert "".join(e["data"]["token"] for e in events if e["event"] == "forward") == text


def test_a_bad_query_knob_is_reported_once(client):
    response = client.get("/api/trace/stream", params={"hidden_size": 100000})
    assert response.status_code == 422
    errors = [e for e in response.json()["detail"] if e["loc"][-1] == "hidden_size"]
    assert len(errors) == 1 and "256" in errors[0]["msg"]


# three or more English words in a row; quoted choices ('norm', 'value') are identifiers, not words
ENGLISH_SENTENCE = re.compile(r"(?<!')\b[A-Za-z]{2,}(?:[ ,.()-]+[A-Za-z]{2,}){2,}\b(?!')")


@pytest.mark.parametrize(("knobs", "field", "limit"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_knob_in_korean_names_the_field_in_korean_and_has_no_english_sentence(client, knobs, field, limit):
    for response in (client.post("/api/trace?lang=ko", json={**OK, **knobs}),
                     client.get("/api/trace.csv", params={**OK, **knobs}, headers={"Accept-Language": "ko-KR"})):
        msg = _field_error(response, field)
        label = load_strings("ko").get(f"knob_{field}", field)
        assert msg.startswith(f"{label}: ") and re.search("[가-힣]", msg), msg
        assert not ENGLISH_SENTENCE.search(msg), msg
        assert response.headers["content-language"] == "ko"


@pytest.mark.parametrize("body", [[1], "x", {"text": 5}, {"seed": 1.5}, {"identity_init": "maybe"}, {"hiden": 1},
                                  {"clip_mode": "norm", "clip_threshold": float("nan")}])
def test_odd_bodies_get_korean_sentences_and_strict_json(client, body):
    response = client.post("/api/trace", content=json.dumps(body), headers={"content-type": "application/json",
                                                                             "Accept-Language": "ko"})
    assert response.status_code == 422
    json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    for error in response.json()["detail"]:
        assert re.search("[가-힣]", error["msg"]) and not ENGLISH_SENTENCE.search(error["msg"]), error


def test_error_language_follows_query_then_cookie_then_header(client):
    bad = {**OK, "hidden_size": 0}
    english = client.post("/api/trace", json=bad)  # a tool asking, no language: English
    assert english.headers["content-language"] == "en"
    assert ENGLISH_SENTENCE.search(english.json()["detail"][0]["msg"])  # the check above can fail
    assert client.post("/api/trace?lang=ko", json=bad, headers={"Accept-Language": "en"}).headers[
        "content-language"] == "ko"
    client.cookies.set("lang", "ko")
    try:
        assert client.post("/api/trace", json=bad, headers={"Accept-Language": "en"}).headers[
            "content-language"] == "ko"
    finally:
        client.cookies.clear()
