"""Helpers shared by the benchmarks: timing (warm up, then the median of several runs) and a real
uvicorn on a free loopback port."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, root: Path = ROOT, **env: str) -> subprocess.Popen:
    """`uvicorn app.main:app` on 127.0.0.1:port with these UNROLLED_* settings, once /api/status answers."""
    environ = {**os.environ, "UNROLLED_DEVICE": "cpu", **env}
    argv = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning"]
    server = subprocess.Popen(argv, cwd=root, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1).raise_for_status()
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("uvicorn did not come up")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def median_seconds(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating_medians(fns: list[Callable[[], object]], rounds: int = 9, warmup: int = 2) -> list[float]:
    """Median seconds of each function, run in turn round after round, so that the machine's slow and
    fast moments fall on every side of a ratio alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def sample_text(length: int) -> str:
    """Plain English text of the requested length, made in code."""
    base = (
        "the cat sat on the mat and the dog ran after the ball. a bird sang in the tree while "
        "the sun went down over the quiet hills, and the children walked home slowly. "
    )
    return (base * (length // len(base) + 1))[:length]
