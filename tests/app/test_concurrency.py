"""Identical knob sets share one computation; torch work stays off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

import app.compute
from app.compute import TraceService
from app.engine import run_trace
from app.serialize import dumps

KNOBS = {"arch": "gru", "text": "sixty students, one teacher's knobs", "hidden_size": 48, "seed": 7}


def test_sixty_identical_concurrent_requests_compute_once(live, monkeypatch):
    serialised = []
    monkeypatch.setattr(app.compute, "dumps", lambda data: serialised.append(1) or dumps(data))

    async def sixty() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as http:
            posts = [http.post("/api/trace", json=KNOBS) for _ in range(30)]
            streams = [http.get("/api/trace/stream", params=KNOBS) for _ in range(30)]
            return await asyncio.gather(*posts, *streams)

    responses = asyncio.run(sixty())
    assert [r.status_code for r in responses] == [200] * 60
    assert len({r.content for r in responses[:30]}) == 1  # one body for everyone
    assert len({r.text for r in responses[30:]}) == 1
    # the body once for all 30 POSTs, and each event once for all 30 streams
    assert len(serialised) == 1 + 2 * len(KNOBS["text"]) + 3
    stats = live.traces.stats
    assert stats["computations"] == 1
    assert stats["joined"] + stats["cache_hits"] == 59


def _slow_engine(release: threading.Event, calls: list):
    def engine(knobs, device, helper):
        calls.append(knobs["seed"])
        release.wait(10)
        return run_trace(knobs, device, helper)

    return engine


def test_last_waiter_leaving_drops_a_queued_computation():
    release, calls = threading.Event(), []
    service = TraceService(1, 4, "cpu", engine=_slow_engine(release, calls))
    busy = {"arch": "rnn", "text": "busy", "seed": 1, "layers": 1, "truncation": None, "clip_mode": None,
            "clip_threshold": None, "hidden_size": 4, "spectral_norm": None, "activation": "tanh",
            "identity_init": False}
    queued = {**busy, "seed": 2}

    async def scenario():
        first = asyncio.create_task(service.trace(busy))  # occupies the only worker
        await asyncio.sleep(0.05)
        waiters = [asyncio.create_task(service.trace(queued)) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert service.snapshot()["joined"] == 2
        for i, waiter in enumerate(waiters):  # the learners close their tabs, one by one
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert service.stats["dropped"] == (1 if i == 2 else 0)
        release.set()
        await first

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        service.close()
    assert calls == [1]  # the queued computation never ran
    assert service.snapshot()["in_flight"] == 0


def test_one_waiter_leaving_does_not_cancel_the_others():
    release, calls = threading.Event(), []
    service = TraceService(1, 4, "cpu", engine=_slow_engine(release, calls))
    knobs = {"arch": "lstm", "text": "shared", "seed": 3, "layers": 1, "truncation": None, "clip_mode": None,
             "clip_threshold": None, "hidden_size": 4, "spectral_norm": None, "forget_bias": None}

    async def scenario():
        leaving, staying = (asyncio.create_task(service.trace(knobs)) for _ in range(2))
        await asyncio.sleep(0.05)
        leaving.cancel()
        release.set()
        entry = await staying
        assert entry.payload["vocab"] == sorted(set("shared"))

    try:
        asyncio.run(scenario())
    finally:
        service.close()
    assert calls == [3] and service.stats["dropped"] == 0


def test_event_loop_answers_while_a_long_trace_computes(live):
    long = {"arch": "lstm", "text": "a long sequence " * 16, "hidden_size": 256, "layers": 3}

    async def race() -> tuple[float, float, int]:
        async with httpx.AsyncClient(base_url=live.url, timeout=120) as http:
            started = time.perf_counter()
            trace = asyncio.create_task(http.post("/api/trace", json=long))
            await asyncio.sleep(0.05)
            status = await http.get("/api/architectures")
            answered = time.perf_counter() - started
            await trace
            return answered, time.perf_counter() - started, status.status_code

    answered, finished, code = asyncio.run(race())
    assert code == 200 and live.traces.stats["computations"] == 1
    assert answered < 0.5 < finished  # the cheap request did not wait for the torch work


def test_each_worker_uses_its_share_of_the_cores_and_the_setting_is_restored():
    import os

    import torch
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    before = torch.get_num_threads()
    with TestClient(create_app(Settings(workers=2, device="cpu"))) as client:
        in_worker = client.app.state.traces.pool.submit(torch.get_num_threads).result()
    assert in_worker == max(1, (os.cpu_count() or 1) // 2)
    assert torch.get_num_threads() == before


def test_the_cache_is_bounded_in_bytes_as_well_as_in_count():
    service = TraceService(1, 100, "cpu", cache_megabytes=1)
    base = {"arch": "gru", "text": "bounded by bytes", "layers": 1, "truncation": None, "clip_mode": None,
            "clip_threshold": None, "spectral_norm": None}

    async def fill():
        small = await service.trace({**base, "hidden_size": 4, "seed": 0})
        big = await service.trace({**base, "hidden_size": 256, "seed": 0})  # > 1 MB: computed, not kept
        others = [await service.trace({**base, "hidden_size": 16, "seed": s}) for s in range(1, 30)]
        return small, big, others

    try:
        small, big, others = asyncio.run(fill())
    finally:
        service.close()
    snapshot = service.snapshot()
    assert big.nbytes > 2**20 > small.nbytes
    assert snapshot["cached_megabytes"] <= 1 and 1 < snapshot["cached"] < 31  # the oldest went first
    assert sum(e.nbytes for e in others[-snapshot["cached"]:]) <= 2**20
