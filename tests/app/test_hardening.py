"""The API's edges under an attacker's or a busy classroom's load: cost caps, fair shares, 429 and 503 with
Retry-After, the body limit (413) and short, valid 422 answers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from app.budget import trace_macs
from app.compute import TraceService
from app.fair import FairPool, Refused
from app.main import create_app
from app.schemas import KnobBody
from app.settings import Settings
from tests.app.conftest import LiveServer, _free_port, strict_json

LONG = ("the quick brown fox jumps over the lazy dog " * 6)[:256]


def _client(**settings) -> TestClient:
    return TestClient(create_app(Settings(workers=2, cache_size=16, device="cpu", **settings)))


# --- 1. cost caps ---


def test_default_budget_refuses_the_widest_transformer_and_admits_every_recurrent_shape():
    budget = Settings().max_trace_gmacs * 1e9
    widest = KnobBody(arch="transformer", text=LONG, d_model=256, layers=4, heads=8, d_ff=1024).canonical()
    largest_lstm = KnobBody(arch="lstm", text=LONG, hidden_size=256, layers=3).canonical()
    assert trace_macs(widest) > budget > trace_macs(largest_lstm)
    default = KnobBody().canonical()
    assert trace_macs(default) < Settings().light_gmacs * 1e9 / 50  # the bench's default is a light trace


def test_the_cost_counts_the_forward_pass_the_flow_matrix_and_the_jacobians():
    from models.cost import recurrent_cost, transformer_cost

    rnn = recurrent_cost("rnn", T=3, V=2, hidden_size=1, layers=1)
    # forward 3 * 1 * (2 + 1) + 3 * 1 * 2 = 15; rows 6 * 1 + regrouping 3; Jacobian 2 * 1 * 3 * 1 * 1
    assert (rnn.forward, rnn.flow, rnn.jacobian, rnn.total) == (15, 9, 6, 30)
    lstm = recurrent_cost("lstm", T=100, V=20, hidden_size=64, layers=2)
    longer = recurrent_cost("lstm", T=200, V=20, hidden_size=64, layers=2)
    assert 3.8 < longer.flow / lstm.flow < 4.1  # the T x T matrix: quadratic in T
    assert longer.jacobian == 2 * lstm.jacobian and longer.forward == 2 * lstm.forward
    one, two = (transformer_cost(T=64, V=20, d_model=64, layers=n, d_ff=256) for n in (1, 2))
    assert two.forward == 2 * one.forward - 64 * 64 * 20 and two.flow > 3 * one.flow  # lower blocks cost most
    truncated = recurrent_cost("gru", T=50, V=10, hidden_size=8, layers=1, truncation=5)
    assert truncated.flow > recurrent_cost("gru", T=50, V=10, hidden_size=8, layers=1).flow  # a second sweep


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_knobs_over_the_budget_are_a_422_naming_the_estimate_and_the_limit(lang):
    knobs = {"arch": "lstm", "text": LONG, "hidden_size": 128}  # about 2.2 G multiply-adds
    with _client(max_trace_gmacs=1.0) as client:
        for response in (client.post("/api/trace", json=knobs, headers={"Accept-Language": lang}),
                         client.get("/api/trace/stream", params={**knobs, "lang": lang})):
            assert response.status_code == 422, response.text
            (error,) = strict_json(response.content)["detail"]
            assert error["type"] == "knob_cost" and error["loc"] in (["body"], ["query"])
            assert error["ctx"] == {"estimate": "2.2", "limit": "1"}
            assert "2.2" in error["msg"] and "1" in error["msg"]
            if lang == "ko":
                assert not any("a" <= ch.lower() <= "z" for ch in error["msg"].replace("G", "")), error["msg"]
        status = client.get("/api/status").json()
        assert status["computations"] == 0 and status["refused_cost"] == 2  # refused before any torch work


# --- 1. fair shares, rates and the line ---


def test_a_burst_of_fresh_computations_gets_429_with_retry_after_but_shared_knobs_stay_free():
    knobs = {"arch": "rnn", "text": "burst of seeds", "hidden_size": 4}
    with _client(client_rate=6, client_burst=3) as client:
        for seed in range(3):
            assert client.post("/api/trace", json={**knobs, "seed": seed}).status_code == 200
        refused = client.post("/api/trace", json={**knobs, "seed": 3})
        assert refused.status_code == 429 and refused.json()["reason"] == "rate"
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        # what the class already has costs nothing: cached traces, the stream of one of them, its CSV
        for _ in range(20):
            assert client.post("/api/trace", json={**knobs, "seed": 1}).status_code == 200
        assert client.get("/api/trace/stream", params={**knobs, "seed": 2}).status_code == 200
        assert client.get("/api/status").json()["refused_rate"] == 1


def test_sixty_students_on_one_knob_set_are_one_computation_even_with_a_burst_of_one():
    settings = Settings(workers=2, cache_size=16, device="cpu", client_burst=1, client_rate=1)
    knobs = {"arch": "gru", "text": "one teacher, sixty screens", "hidden_size": 32, "seed": 5}
    with LiveServer(create_app(settings), _free_port()) as live:

        async def class_of_sixty() -> list[int]:
            limits = httpx.Limits(max_connections=60)
            async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as http:
                posts = [http.post("/api/trace", json=knobs) for _ in range(30)]
                streams = [http.get("/api/trace/stream", params=knobs) for _ in range(30)]
                return [r.status_code for r in await asyncio.gather(*posts, *streams)]

        assert asyncio.run(class_of_sixty()) == [200] * 60
        assert live.traces.stats["computations"] == 1 and live.traces.stats["refused_rate"] == 0


def test_a_full_line_is_a_503_with_retry_after_not_an_ever_longer_wait():
    release = threading.Event()
    settings = Settings(workers=1, cache_size=16, device="cpu", queue_limit=1)
    with LiveServer(create_app(settings), _free_port()) as live:
        engine = live.traces.engine

        def gated(knobs, device, helper):
            release.wait(20)
            return engine(knobs, device, helper)

        live.traces.engine = gated
        knobs = {"arch": "rnn", "text": "a line of one", "hidden_size": 4}
        waiting = [threading.Thread(target=httpx.post, args=(f"{live.url}/api/trace",),
                                    kwargs={"json": {**knobs, "seed": s}, "timeout": 30}) for s in (1, 2)]
        try:
            for thread in waiting:  # one runs (held at the gate), one waits in line
                thread.start()
                time.sleep(0.3)
            started = time.monotonic()
            refused = httpx.post(f"{live.url}/api/trace", json={**knobs, "seed": 3}, timeout=10)
            assert time.monotonic() - started < 2  # answered at once, not after the line
            assert refused.status_code == 503 and refused.json()["reason"] == "busy"
            assert int(refused.headers["retry-after"]) >= 1
            refused_ko = httpx.get(f"{live.url}/api/trace.csv", params={**knobs, "seed": 4, "lang": "ko"}, timeout=10)
            assert refused_ko.status_code == 503 and "초 뒤에" in refused_ko.json()["detail"]
        finally:
            release.set()
            for thread in waiting:
                thread.join(30)
        assert live.traces.stats["computations"] == 2 and live.traces.stats["refused_busy"] == 2


class _Gate:
    """Jobs that run until released, recording when they started."""

    def __init__(self) -> None:
        self.release, self.started = threading.Event(), []

    def job(self, name: str):
        def run():
            self.started.append(name)
            self.release.wait(10)
            return name

        return run


def _wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_light_trace_never_waits_behind_heavy_ones_from_other_clients():
    from concurrent.futures import ThreadPoolExecutor

    gate, executor = _Gate(), ThreadPoolExecutor(2)
    pool = FairPool(executor, 2, light_cost=10)
    try:
        heavy = [pool.submit(f"student{i}", 100, gate.job(f"heavy{i}")) for i in range(10)]
        _wait_for(lambda: gate.started == ["heavy0"])  # heavy work holds one worker at most
        light = pool.submit("neighbour", 1, lambda: "light")
        assert light.result(timeout=5) == "light"  # on the worker kept for light work, at once
        assert gate.started == ["heavy0"] and pool.snapshot()["waiting"] == 9
    finally:
        gate.release.set()
        assert [f.result(timeout=20) for f in heavy] == [f"heavy{i}" for i in range(10)]
        executor.shutdown()


def test_one_client_holds_at_most_its_share_and_the_next_worker_goes_to_another():
    from concurrent.futures import ThreadPoolExecutor

    gate, executor = _Gate(), ThreadPoolExecutor(4)
    pool = FairPool(executor, 4, light_cost=10)  # a client's share: two of four workers; heavy work: three
    try:
        first = [pool.submit("greedy", 100, gate.job(f"greedy{i}")) for i in range(4)]
        _wait_for(lambda: len(gate.started) == 2)
        time.sleep(0.1)
        assert gate.started == ["greedy0", "greedy1"]  # the other workers stay free for someone else
        other = pool.submit("other", 100, gate.job("other"))
        _wait_for(lambda: "other" in gate.started)
        quick = pool.submit("greedy", 1, lambda: "light")  # light work may take the last free worker
        assert quick.result(timeout=5) == "light"
        assert pool.snapshot()["waiting"] == 2
    finally:
        gate.release.set()
        [f.result(timeout=10) for f in (*first, other)]
        executor.shutdown()


def test_a_client_whose_own_line_is_full_gets_429_and_others_are_still_served():
    from concurrent.futures import ThreadPoolExecutor

    gate, executor = _Gate(), ThreadPoolExecutor(2)
    pool = FairPool(executor, 2, light_cost=10, client_queue_cost=150, queue_cost=1000)
    try:
        mine = [pool.submit("greedy", 100, gate.job("g0")), pool.submit("greedy", 100, gate.job("g1"))]
        with pytest.raises(Refused) as refused:
            pool.submit("greedy", 100, gate.job("g2"))
        assert refused.value.status == 429 and refused.value.reason == "queue" and refused.value.retry_after >= 1
        theirs = pool.submit("other", 100, gate.job("o"))
        assert not theirs.done()
    finally:
        gate.release.set()
        [f.result(timeout=10) for f in (*mine, theirs)]
        executor.shutdown()


def test_a_job_cancelled_while_waiting_leaves_the_line_at_once():
    from concurrent.futures import ThreadPoolExecutor

    gate, executor = _Gate(), ThreadPoolExecutor(1)
    pool = FairPool(executor, 1, queue_limit=2)
    try:
        running = pool.submit("a", 1, gate.job("a"))
        queued = pool.submit("b", 1, gate.job("b"))
        assert pool.snapshot()["waiting"] == 1
        assert queued.cancel()
        assert pool.snapshot()["waiting"] == 0
    finally:
        gate.release.set()
        running.result(timeout=10)
        executor.shutdown()
    assert gate.started == ["a"]


def test_the_service_charges_only_fresh_computations_to_a_client():
    service = TraceService(1, 8, "cpu", fair={"rate_per_minute": 1, "burst": 1})
    knobs = KnobBody(arch="rnn", text="charged once", hidden_size=4).canonical()

    async def scenario():
        first = await service.trace(knobs)
        again = [await service.trace(knobs) for _ in range(5)]  # cache hits
        with pytest.raises(Refused):
            await service.trace({**knobs, "seed": 9})
        return first, again

    try:
        first, again = asyncio.run(scenario())
    finally:
        service.close()
    assert all(entry is first for entry in again) and service.stats["refused_rate"] == 1


# --- 2. bodies and errors ---


def _raw_request(port: int, head: bytes, body_chunks=(), timeout: float = 5.0) -> bytes:
    """Send a request by hand (headers, then body chunks while the server may already answer) and
    return what the server sent before closing or going quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed while we were still sending: that is the point
        data = b""
        try:
            while not _complete(data):
                part = sock.recv(65536)
                if not part:
                    break
                data += part
        except TimeoutError:
            pass
        return data


def _complete(response: bytes) -> bool:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    lengths = [line.split(b":", 1)[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(lengths) and len(body) >= int(lengths[0])


def test_a_body_over_the_limit_is_413_before_it_is_read(live):
    port = int(live.url.rsplit(":", 1)[1])
    started = time.monotonic()
    head = (b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n")
    answer = _raw_request(port, head)  # 100 MB announced, not one byte sent: the server must not wait for it
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3
    # no Content-Length (chunked): the server stops reading at the limit
    head = (b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 32768
    chunks = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 3200  # 100 MB if it were all read
    answer = _raw_request(port, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 10


def test_a_small_body_is_still_welcome(client):
    assert client.post("/api/trace", json={"arch": "rnn", "text": "small", "hidden_size": 4}).status_code == 200


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_malformed_json_is_a_422_naming_the_body(client, lang):
    response = client.post("/api/trace", content=b'{"arch": "lstm", ', headers={
        "Content-Type": "application/json", "Accept-Language": lang})
    assert response.status_code == 422
    (error,) = strict_json(response.content)["detail"]
    assert error["type"] == "json_invalid" and error["loc"][0] == "body"
    label = {"en": "Request body: ", "ko": "요청 본문: "}[lang]
    assert error["msg"].startswith(label) and "17" in error["msg"], error["msg"]


def test_a_422_echoes_a_short_prefix_of_the_input_and_stays_json(client):
    long_text = "x" * 12000
    cases = [
        client.post("/api/trace", json={"text": long_text}),
        client.get("/api/trace.csv", params={"text": long_text}),
        client.post("/api/trace", content=('{"text": "' + long_text + '"}').encode(),
                    headers={"Content-Type": "text/plain"}),  # not JSON: the whole body is the input
        client.post("/api/trace", json=[long_text[:6000], long_text[:6000]]),
    ]
    for response in cases:
        assert response.status_code == 422, response.text[:200]
        assert len(response.content) < 2000, len(response.content)
        for error in strict_json(response.content)["detail"]:
            assert len(str(error.get("input", ""))) <= 81
    nan = client.post("/api/trace", content=b'{"clip_mode": "norm", "clip_threshold": NaN}',
                      headers={"Content-Type": "application/json"})
    assert nan.status_code == 422 and strict_json(nan.content)["detail"][0]["input"] == "nan"
