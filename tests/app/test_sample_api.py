"""POST /api/sample and GET /api/sample/stream: what a trained model writes, checked against torch.nn
rebuilt from the trace API's exported weights; the stream is the same writing, one event per character."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from tests.app.conftest import parse_sse, strict_json
from tests.models.test_sampling import expected_probs, rebuild

KNOBS = {"checkpoint": "charlm-lstm", "prompt": "Today the weather", "length": 60, "temperature": 0.8, "top_k": 20,
         "seed": 4}


def _weights(client, name: str) -> dict:
    """A trace of the checkpoint (its vocab and exported params)."""
    arch = name.split("-")[1]
    return strict_json(client.post("/api/trace", json={"arch": arch, "text": "ab", "checkpoint": name}).content)


@pytest.mark.parametrize("name", ["charlm-lstm", "charlm-gru", "charlm-rnn"])
def test_sampled_distributions_are_the_rebuilt_models_tempered_softmax_over_the_top_k(client, name):
    knobs = {**KNOBS, "checkpoint": name}
    body = strict_json(client.post("/api/sample", json=knobs).content)
    trace = _weights(client, name)
    assert body["vocab"] == trace["vocab"] and body["prompt"] == knobs["prompt"]
    assert len(body["text"]) == 60 and "".join(s["char"] for s in body["steps"]) == body["text"]
    assert [s["t"] for s in body["steps"]] == list(range(60))
    logits = rebuild(trace["params"], name.split("-")[1])
    n = len(knobs["prompt"])
    z = logits([body["vocab"].index(ch) for ch in knobs["prompt"] + body["text"]])[n - 1 : n - 1 + 60]
    probs = np.array([s["probs"] for s in body["steps"]])
    np.testing.assert_allclose(probs, expected_probs(z, 0.8, 20), atol=2e-6)
    assert ((probs > 0).sum(1) == 20).all()


def test_temperature_zero_is_the_argmax_and_the_same_seed_writes_the_same_text(client):
    prompt = "비가 오는 날에는"
    greedy = client.post("/api/sample", json={**KNOBS, "temperature": 0, "top_k": None, "prompt": prompt}).json()
    logits = rebuild(_weights(client, "charlm-lstm")["params"], "lstm")
    vocab, n = greedy["vocab"], len(prompt)
    z = logits([vocab.index(ch) for ch in prompt + greedy["text"]])[n - 1 : n - 1 + 60]
    assert [vocab.index(s["char"]) for s in greedy["steps"]] == z.argmax(-1).tolist()
    assert all(max(s["probs"]) == 1.0 and sum(s["probs"]) == 1.0 for s in greedy["steps"])
    again = client.post("/api/sample", json=KNOBS).json()
    assert again == client.post("/api/sample", json=KNOBS).json()
    assert again["text"] != client.post("/api/sample", json={**KNOBS, "seed": 5}).json()["text"]


@pytest.mark.parametrize(
    ("knobs", "field"),
    [
        ({"length": 0}, "length"),
        ({"length": 501}, "length"),
        ({"temperature": -1}, "temperature"),
        ({"temperature": 6}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 841}, "top_k"),  # the vocabulary has 840 characters
        ({"checkpoint": "no-such-model"}, "checkpoint"),
        ({"checkpoint": "transformer-induction"}, "checkpoint"),  # not a character model
        ({"prompt": "x" * 257}, "prompt"),
    ],
)
def test_bad_sample_knobs_are_422_naming_the_field(client, knobs, field):
    for response, where in ((client.post("/api/sample", json={**KNOBS, **knobs}), "body"),
                            (client.get("/api/sample/stream", params={**KNOBS, **knobs}), "query")):
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == [where, field]
        assert error["msg"].strip()


def test_422_messages_come_in_the_learners_language(client):
    ko = client.post("/api/sample?lang=ko", json={**KNOBS, "top_k": 5000}).json()["detail"][0]["msg"]
    en = client.post("/api/sample?lang=en", json={**KNOBS, "top_k": 5000}).json()["detail"][0]["msg"]
    assert "840" in ko and "840" in en and ko != en


def test_the_streams_steps_are_the_posts_steps(client):
    post = client.post("/api/sample", json=KNOBS).json()
    events = parse_sse(client.get("/api/sample/stream", params=KNOBS).text)
    assert [e["event"] for e in events] == ["meta"] + ["step"] * 60 + ["done"]
    assert [int(e["id"]) for e in events] == list(range(62))
    meta = events[0]["data"]
    assert meta["vocab"] == post["vocab"] and meta["prompt"] == KNOBS["prompt"] and meta["unknown"] == []
    assert [e["data"] for e in events[1:-1]] == post["steps"]
    assert events[-1]["data"] == {"steps": 60, "text": post["text"]}


def test_a_reconnecting_stream_resumes_after_its_last_event_and_gets_204_after_done(client):
    full = parse_sse(client.get("/api/sample/stream", params=KNOBS).text)
    resumed = parse_sse(client.get("/api/sample/stream", params=KNOBS, headers={"Last-Event-ID": "40"}).text)
    assert resumed == full[41:]
    assert client.get("/api/sample/stream", params=KNOBS, headers={"Last-Event-ID": "61"}).status_code == 204


def test_an_empty_prompt_and_blank_top_k_are_accepted_from_a_query(client):
    events = parse_sse(client.get("/api/sample/stream", params={**KNOBS, "prompt": "", "top_k": ""}).text)
    assert events[0]["data"]["knobs"]["top_k"] is None and len(events) == 62
    odd = client.post("/api/sample", json={**KNOBS, "prompt": "snow ☃", "length": 3}).json()
    assert odd["unknown"] == [5]


def test_the_sample_stream_stops_drawing_when_the_client_leaves(live):
    knobs = {**KNOBS, "length": 200, "interval_ms": 50}  # 10 s of paced steps
    with httpx.Client(base_url=live.url, timeout=30) as http:
        with http.stream("GET", "/api/sample/stream", params=knobs) as response:
            received = 0
            for line in response.iter_lines():
                received += line.startswith("event: ")
                if received == 4:  # meta and three characters, then the tab closes
                    break
    deadline = time.monotonic() + 5
    while live.traces.stats["sample_streams_stopped_early"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live.traces.stats["sample_streams_stopped_early"] == 1
    drawn = live.traces.stats["sample_steps"]
    time.sleep(0.5)
    assert live.traces.stats["sample_steps"] == drawn < 10
