"""Streams under real uvicorn: a disconnect ends quietly and is counted at once, streaming traces count
against the memory budget, SIGTERM ends open streams with a `reconnect` event, and gzip never turns a
stream into one late blob."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from app.compute import TraceService
from app.main import create_app
from app.schemas import KnobBody
from app.settings import Settings
from tests.app.conftest import LiveServer, _free_port, parse_sse

ROOT = Path(__file__).resolve().parents[2]
KNOBS = {"arch": "lstm", "text": "x" * 10 + "y" * 30, "hidden_size": 8}  # 40 steps: 83 events


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _InfoServer(LiveServer):
    """LiveServer logging at INFO, with access lines, so that every line a disconnect causes is seen."""

    def __init__(self, app, port: int) -> None:
        super().__init__(app, port)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def _wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _leave(port: int, query: str, after_bytes: int, reset: bool) -> None:
    """A learner closing the tab after `after_bytes` of the stream: FIN, or RST as a dropped wifi does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server cannot run ahead
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET /api/trace/stream?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = 0
        while got < after_bytes:
            data = sock.recv(4096)
            if not data:
                break
            got += len(data)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_disconnect_ends_quietly_and_is_counted_at_once():
    big = {"arch": "lstm", "text": ("abcdefghij" * 20), "hidden_size": 64}  # 200 steps of large events
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "asyncio", "fastapi", "app")]
    gc.disable()  # counted by the stream itself, not whenever the garbage collector comes by
    try:
        with _InfoServer(create_app(Settings(workers=2, cache_size=16, device="cpu")), _free_port()) as live:
            for logger in loggers:  # after uvicorn configured its loggers
                logger.addHandler(handler)
            port = int(live.url.rsplit(":", 1)[1])
            httpx.get(f"{live.url}/api/trace.csv", params=big, timeout=60).raise_for_status()  # computed once
            stats, whole = live.traces.stats, 2 * len(big["text"]) + 3
            for interval in (0, 20):
                for i in range(8):
                    early, events = stats["streams_stopped_early"], stats["stream_events"]
                    _leave(port, urlencode({**big, "interval_ms": interval}), 2000 + 3000 * i, reset=i % 2 == 1)
                    # counted within a second; unless, unpaced, the socket buffers took the whole stream first
                    ended = _wait_for(lambda e=early, n=events: live.traces.snapshot()["streaming"] == 0 and (
                        stats["streams_stopped_early"] == e + 1 or stats["stream_events"] == n + whole), 1)
                    assert ended, (interval, i)
            assert stats["streams_stopped_early"] >= 8  # of 16: every paced one, and unpaced ones as they come
            time.sleep(0.3)  # anything a late task would still log
    finally:
        gc.enable()
        for logger in loggers:
            logger.removeHandler(handler)
    ours = [r for r in handler.records if r.name != "uvicorn.access"]
    errors = [r for r in ours if r.levelno >= logging.WARNING or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
    startup = ("Started server process", "Waiting for application", "Application s", "Shutting down",
               "Finished server process", "Uvicorn running on")
    extra = [r.getMessage() for r in ours if not r.getMessage().startswith(startup)]
    assert len(extra) <= 16, extra  # at most one INFO line per disconnect


def test_streaming_traces_count_against_the_memory_budget():
    service = TraceService(1, 16, "cpu", cache_megabytes=1)

    async def entries():
        return [await service.trace(KnobBody(arch="lstm", text="memory " * 5, hidden_size=h).canonical())
                for h in (34, 35, 36)]

    import asyncio

    try:
        a, b, c = asyncio.run(entries())
    finally:
        service.close()
    assert 2**20 / 3 < a.nbytes < 2**20 / 2  # two fit in the budget, three do not
    assert service.open_stream(a) and service.open_stream(b)
    assert service.snapshot()["cached"] <= 2  # the cache gave way to the streams
    assert not service.open_stream(c)  # two open streams hold the budget: a third must wait
    assert service.open_stream(a)  # a second stream of the same trace costs nothing more
    service.close_stream(a)
    service.close_stream(a)
    assert service.open_stream(c)
    snapshot = service.snapshot()
    assert snapshot["trace_megabytes"] <= 1 and snapshot["streaming"] == 2


def test_a_new_stream_past_the_memory_budget_waits_briefly_then_gets_503():
    settings = Settings(workers=2, cache_size=16, device="cpu", cache_megabytes=1, stream_wait_s=0.3)
    with LiveServer(create_app(settings), _free_port()) as live:
        slow = {"arch": "lstm", "text": "memory " * 5, "hidden_size": 34, "interval_ms": 2000}
        with httpx.Client(base_url=live.url, timeout=30) as http:
            with http.stream("GET", "/api/trace/stream", params=slow) as one, \
                    http.stream("GET", "/api/trace/stream", params={**slow, "hidden_size": 35}) as two:
                assert one.status_code == two.status_code == 200
                started = time.monotonic()
                third = http.get("/api/trace/stream", params={**slow, "hidden_size": 36})
                assert third.status_code == 503 and third.json()["reason"] == "memory"
                assert int(third.headers["retry-after"]) >= 1
                assert 0.25 < time.monotonic() - started < 3
                assert live.traces.stats["computations"] == 2  # refused before its trace was computed
        # the two slow streams are closed: their memory is free again
        assert _wait_for(lambda: live.traces.snapshot()["streaming"] == 0)
        with httpx.Client(base_url=live.url, timeout=30) as http:
            fits_now = http.get("/api/trace/stream", params={**slow, "hidden_size": 36, "interval_ms": 0})
            assert fits_now.status_code == 200
        assert live.traces.stats["refused_memory"] == 1


def test_sigterm_ends_open_streams_with_a_reconnect_event_after_the_timeout():
    port = _free_port()
    env = {**os.environ, "UNROLLED_DEVICE": "cpu", "UNROLLED_SHUTDOWN_TIMEOUT_S": "1"}
    argv = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning"]
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: _up(port), 60), "uvicorn did not come up"
        slow = {**KNOBS, "interval_ms": 2000}  # 80 paced events: 160 s
        received: list[str] = []

        def listen() -> None:
            with httpx.stream("GET", f"http://127.0.0.1:{port}/api/trace/stream", params=slow, timeout=30) as r:
                for line in r.iter_lines():
                    received.append(line)

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert _wait_for(lambda: "event: forward" in received, 30)
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)  # without the timeout it would wait out the whole stream
        stopped = time.monotonic() - signalled
        listener.join(5)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert 0.9 < stopped < 6, stopped
    events = parse_sse("\n".join(received) + "\n\n")
    final = events[-1]
    assert final["event"] == "reconnect" and "id" not in final
    assert final["data"]["reason"] == "shutdown" and final["data"]["last_event_id"] == int(events[-2]["id"])
    assert "retry: 10000" in received
    assert b"Traceback" not in server.stderr.read()


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_a_gzipped_stream_arrives_event_by_event(live):
    params = {"arch": "lstm", "text": "abcabcabd", "hidden_size": 8, "interval_ms": 150}  # 18 paced events
    arrivals: list[float] = []
    with httpx.Client(base_url=live.url, timeout=30) as http:
        http.get("/api/trace.csv", params=params).raise_for_status()  # computed: the pacing is all that is left
        started = time.monotonic()
        with http.stream("GET", "/api/trace/stream", params=params, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-encoding"] == "gzip" and r.headers["content-type"].startswith("text/event-stream")
            lines = []
            for line in r.iter_lines():
                lines.append(line)
                if line.startswith("event: "):
                    arrivals.append(time.monotonic() - started)
    events = parse_sse("\n".join(lines) + "\n\n")
    assert [e["event"] for e in events][-2:] == ["summary", "done"] and len(events) == 21
    forward = arrivals[1:10]
    assert forward[0] < 0.6 and arrivals[-1] > 2.5  # the first step came at once, the last 18 x 150 ms later
    gaps = [b - a for a, b in zip(forward, forward[1:], strict=False)]
    assert min(gaps) > 0.08, gaps  # one by one, not in one late blob


@pytest.mark.parametrize("gzip_streams", [False])
def test_streams_can_be_left_uncompressed(gzip_streams):
    with LiveServer(create_app(Settings(device="cpu", gzip_streams=gzip_streams)), _free_port()) as live:
        with httpx.stream("GET", f"{live.url}/api/trace/stream", params=KNOBS, timeout=30) as r:
            assert "content-encoding" not in r.headers
            assert r.read().count(b"event: ") == 83
