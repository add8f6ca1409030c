"""GET /api/trace/stream: meta, T forward, T backward (last to first), summary, done; stops on disconnect."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import LiveServer, _free_port, parse_sse

TEXT = "abcabcabd"
KNOBS = {"arch": "lstm", "text": TEXT, "hidden_size": 8, "truncation": 3}


def _check_order(events: list[dict], trace: dict) -> None:
    T = len(TEXT)
    assert [e["event"] for e in events] == ["meta", *["forward"] * T, *["backward"] * T, "summary", "done"]
    assert [int(e["id"]) for e in events] == list(range(2 * T + 3))
    forward, backward = events[1 : T + 1], events[T + 1 : 2 * T + 1]
    assert [e["data"]["t"] for e in forward] == list(range(T))
    assert [e["data"]["t"] for e in backward] == list(reversed(range(T)))
    # the events are cut from the same trace the POST returns
    assert events[0]["data"]["vocab"] == trace["vocab"] and events[0]["data"]["T"] == T
    assert [e["data"] for e in forward] == trace["steps"]
    grad_flow = np.array(trace["backward"]["grad_flow"])
    for e in backward:
        t = e["data"]["t"]
        assert e["data"]["grad_h"] == trace["backward"]["grad_h"][t]
        assert e["data"]["grad_h_local"] == trace["backward"]["grad_h_local"][t]
        assert e["data"]["grad_h_future"] == trace["backward"]["grad_h_future"][t]
        assert e["data"]["grad_flow_from"] == grad_flow[:, t].tolist()
        assert e["data"]["cut"] == (t in (3, 6))
    assert events[-2]["data"]["loss"] == trace["backward"]["loss"]
    assert events[-1]["data"] == {"events": 2 * T + 3}


def test_stream_yields_meta_forward_backward_summary_done_in_order(client):
    response = client.get("/api/trace/stream", params=KNOBS)
    assert response.headers["content-type"].startswith("text/event-stream")
    _check_order(parse_sse(response.text), client.post("/api/trace", json=KNOBS).json())


def test_stream_resumes_after_last_event_id(client):
    events = parse_sse(client.get("/api/trace/stream", params=KNOBS, headers={"Last-Event-ID": "12"}).text)
    assert int(events[0]["id"]) == 13 and events[0]["event"] == "backward" and events[0]["data"]["t"] == 5
    assert events[-1]["event"] == "done"


def test_stream_through_real_uvicorn(live):
    with httpx.Client(base_url=live.url, timeout=30) as http:
        trace = http.post("/api/trace", json=KNOBS).json()
        with http.stream("GET", "/api/trace/stream", params=KNOBS) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            body = "".join(response.iter_text())
    _check_order(parse_sse(body), trace)
    assert live.traces.stats["computations"] == 1  # the stream found the POST's trace in the cache


def test_stream_stops_its_work_when_the_client_disconnects(live):
    knobs = {**KNOBS, "text": "x" * 10 + "y" * 30, "interval_ms": 50}  # 40 steps at 50 ms: 4 s of forward events
    total = 2 * 40 + 3
    with httpx.Client(base_url=live.url, timeout=30) as http:
        with http.stream("GET", "/api/trace/stream", params=knobs) as response:
            received = 0
            for line in response.iter_lines():
                if received == 0:
                    started = time.monotonic()  # the trace is computed; the paced events begin
                received += line.startswith("event: ")
                if received == 4:  # meta and three forward steps, then the learner closes the tab
                    break
    deadline = time.monotonic() + 5
    while live.traces.stats["streams_stopped_early"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live.traces.stats["streams_stopped_early"] == 1
    assert time.monotonic() - started < 2  # the whole stream would take 80 x 50 ms
    sent = live.traces.stats["stream_events"]
    time.sleep(0.5)  # ten more intervals: nothing more is produced
    assert live.traces.stats["stream_events"] == sent
    assert 4 <= sent <= 6 < total


def test_a_request_abandoned_while_queued_is_never_computed():
    """One worker, busy; a stream for other knobs waits in line; the learner moves on and closes it."""
    release, calls = threading.Event(), []
    with LiveServer(create_app(Settings(workers=1, device="cpu")), _free_port()) as live:
        engine = live.traces.engine

        def gated(knobs, device, helper):
            calls.append(knobs["seed"])
            if knobs["seed"] == 1:
                release.wait(20)
            return engine(knobs, device, helper)

        live.traces.engine = gated
        busy = threading.Thread(target=httpx.post, args=(f"{live.url}/api/trace",),
                                kwargs={"json": {**KNOBS, "seed": 1}, "timeout": 30})
        busy.start()
        while calls != [1]:
            time.sleep(0.01)
        with pytest.raises(httpx.ReadTimeout):  # the client gives up and closes the connection
            httpx.get(f"{live.url}/api/trace/stream", params={**KNOBS, "seed": 2}, timeout=0.5)
        deadline = time.monotonic() + 5
        while live.traces.stats["dropped"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        release.set()
        busy.join(30)
        assert live.traces.stats["abandoned"] == 1 and live.traces.stats["dropped"] == 1
        assert calls == [1]  # seed 2 never reached the engine
        # and the same knobs asked again later are computed normally
        assert httpx.get(f"{live.url}/api/trace.csv", params={**KNOBS, "seed": 2}, timeout=30).status_code == 200
        assert calls == [1, 2]


def test_a_finished_stream_tells_eventsource_to_stop_reconnecting(client):
    last = 2 * len(TEXT) + 2  # the id of `done`
    response = client.get("/api/trace/stream", params=KNOBS, headers={"Last-Event-ID": str(last)})
    assert response.status_code == 204 and response.content == b""
    assert client.get("/api/status").json()["computations"] == 0  # answered before any torch work


def test_summary_endpoint_is_the_streams_summary_event(client):
    """GET /api/trace/summary: the compare strip reads four of these instead of four whole streams."""
    summary = client.get("/api/trace/summary", params=KNOBS)
    assert summary.status_code == 200 and summary.headers["content-type"] == "application/json"
    events = parse_sse(client.get("/api/trace/stream", params=KNOBS).text)
    assert summary.json() == events[-2]["data"]
    trace = client.post("/api/trace", json=KNOBS).json()
    assert summary.json()["grad_flow"] == trace["backward"]["grad_flow"]
    assert len(summary.content) < len(client.post("/api/trace", json=KNOBS).content) / 3
    bad = client.get("/api/trace/summary", params={**KNOBS, "hidden_size": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "hidden_size"
