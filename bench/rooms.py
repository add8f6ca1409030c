"""Classroom rooms at scale: one real redis-server and two app processes on loopback (bench.common).

room_followers_p95_ms: 200 followers of one room, half on each process, each with its own SSE
  connection; the teacher publishes CHANGES states on the first process; for every follower and change,
  the delay from just before the teacher's POST to the follower's reading of that event's id.
room_mixed_p95_ms: the same while 30 other students explore with distinct knobs (each one POSTing
  fresh traces, every one a new computation, in a loop).
room_errors: followers that missed a change, and explorers' refused traces, over both runs (target 0);
room_mixed_traces: the explorers' traces computed during the mixed run.
Bounded: CHANGES changes PAUSE_S apart, every wait under a deadline.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time

import httpx

from bench.common import free_port, start_server

FOLLOWERS = 200
EXPLORERS = 30
CHANGES = 10
PAUSE_S = 0.3
DEADLINE_S = 60.0


def _start_redis(port: int, directory: str) -> subprocess.Popen:
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
                             "--appendonly", "no"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # its own word that it is ready, not a guess
        if "Ready to accept connections" in line:
            return proc
    raise RuntimeError("redis-server did not start")


async def _follow(port: int, code: str, device: str, arrived: dict[int, float], ready: asyncio.Event,
                  opened: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/rooms/{code}/events?device={device} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                arrived.setdefault(int(line[4:]), time.perf_counter())
                if len(arrived) == 1:  # the snapshot came: this follower is in
                    opened.append(1)
                    if len(opened) >= FOLLOWERS:
                        ready.set()
    finally:
        writer.close()


async def _explore(base: str, stop: asyncio.Event, seed0: int, counts: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        seed = seed0
        while not stop.is_set():
            knobs = {"arch": "rnn", "text": "hello, class", "hidden_size": 16, "seed": seed}
            response = await http.post("/api/trace", json=knobs)
            counts[0 if response.status_code == 200 else 1] += 1
            seed += EXPLORERS


async def _round(bases: list[str], ports: list[int], explorers: int) -> tuple[list[float], int, int]:
    async with httpx.AsyncClient(base_url=bases[0], timeout=30) as teacher_http:
        room = (await teacher_http.post("/api/rooms")).json()
        code, key = room["code"], {"X-Teacher-Key": room["teacher_key"]}
        await teacher_http.post(f"/api/rooms/{code}/state", json={"step": 0}, headers=key)
        devices = []
        for i in range(FOLLOWERS):
            async with httpx.AsyncClient(base_url=bases[i % 2], timeout=30) as http:
                devices.append((await http.post(f"/api/rooms/{code}/join", json={})).json()["device"])
        arrivals: list[dict[int, float]] = [{} for _ in range(FOLLOWERS)]
        ready, opened = asyncio.Event(), []
        tasks = [asyncio.create_task(_follow(ports[i % 2], code, devices[i], arrivals[i], ready, opened))
                 for i in range(FOLLOWERS)]
        stop, counts = asyncio.Event(), [0, 0]
        crowd = [asyncio.create_task(_explore(bases[i % 2], stop, i, counts)) for i in range(explorers)]
        sent: dict[int, float] = {}
        try:
            await asyncio.wait_for(ready.wait(), DEADLINE_S)
            for step in range(1, CHANGES + 1):
                await asyncio.sleep(PAUSE_S)  # the teacher's pace, not a wait for a result
                t0 = time.perf_counter()
                answer = await teacher_http.post(f"/api/rooms/{code}/state", json={"step": step}, headers=key)
                sent[answer.json()["id"]] = t0
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(not sent.keys() <= a.keys() for a in arrivals):
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            for task in tasks + crowd:
                task.cancel()
            await asyncio.gather(*tasks, *crowd, return_exceptions=True)
    delays = [1000 * (a[i] - t0) for a in arrivals for i, t0 in sent.items() if i in a]
    errors = sum(1 for a in arrivals if not sent.keys() <= a.keys()) + counts[1]
    return delays, errors, counts[0]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else float("nan")


def run() -> dict[str, float]:
    directory = tempfile.mkdtemp(prefix="unrolled-bench-redis-")
    redis = _start_redis(free_port(), directory)
    url = f"redis://127.0.0.1:{redis.args[2]}/0"
    ports = [free_port(), free_port()]
    env = {"UNROLLED_REDIS_URL": url, "UNROLLED_WORKERS": "1", "UNROLLED_TORCH_THREADS": "1",
           "UNROLLED_CLIENT_RATE": "0", "UNROLLED_ROOM_JOIN_BURST": "100000", "UNROLLED_ROOM_JOIN_RATE": "100000",
           "UNROLLED_SHUTDOWN_TIMEOUT_S": "0"}
    servers = []
    try:
        servers = [start_server(port, **env) for port in ports]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        followers, errors_a, _ = asyncio.run(_round(bases, ports, 0))
        mixed, errors_b, traces = asyncio.run(_round(bases, ports, EXPLORERS))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
    return {"room_followers_p95_ms": p95(followers), "room_mixed_p95_ms": p95(mixed),
            "room_errors": float(errors_a + errors_b), "room_mixed_traces": float(traces)}


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:28s} {value:.4g}")
