"""Hardening figures against a real uvicorn on loopback (its default settings unless stated):

- default_stream_bytes / default_stream_gzip_bytes: the bench's default stream (LSTM, "hello, hello
  world") on the wire without and with gzip; lstm132_stream_*: the issue's LSTM at T=132, H=128.
- neighbour_p95_ms: a light trace's p95 latency (the default LSTM, a fresh seed each time, so it is
  computed) while ten of the heaviest allowed requests (LSTM, H=256, 3 layers, T=256: 52 G
  multiply-adds, each from its own address 127.0.0.2-11) run or wait; neighbour_alone_p95_ms: the same
  light trace on an idle server.
- slow_stream_*: the slow-stream probe. Distinct traces streamed at interval_ms=2000 and held open,
  with the trace memory budget at 256 MB: how many streams were admitted and refused (503), and the
  server's resident memory idle and at its peak.

    python -m bench.hardening      prints one JSON line (run() returns the same figures)
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.common import ROOT, free_port, start_server, stop_server

HEAVY = {"arch": "lstm", "text": ("the quick brown fox jumps over the lazy dog " * 6)[:256], "hidden_size": 256,
         "layers": 3}
LIGHT = {"arch": "lstm"}  # the bench's default knobs


def _rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _wire_bytes(http: httpx.Client, params: dict, encoding: str) -> int:
    with http.stream("GET", "/api/trace/stream", params=params, headers={"Accept-Encoding": encoding}) as r:
        r.raise_for_status()
        return sum(len(chunk) for chunk in r.iter_raw())


def stream_bytes(base_url: str) -> dict[str, float]:
    lstm132 = {"arch": "lstm", "text": ("the quick brown fox jumps over the lazy dog " * 4)[:132], "hidden_size": 128}
    with httpx.Client(base_url=base_url, timeout=120) as http:
        return {
            "default_stream_bytes": _wire_bytes(http, LIGHT, "identity"),
            "default_stream_gzip_bytes": _wire_bytes(http, LIGHT, "gzip"),
            "lstm132_stream_bytes": _wire_bytes(http, lstm132, "identity"),
            "lstm132_stream_gzip_bytes": _wire_bytes(http, lstm132, "gzip"),
        }


def _light_ms(http: httpx.Client, seed: int) -> float:
    started = time.perf_counter()
    http.post("/api/trace", json={**LIGHT, "seed": seed}).raise_for_status()
    return (time.perf_counter() - started) * 1e3


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) >= 2 else values[0]


def neighbour(base_url: str, samples: int = 20) -> dict[str, float]:
    with httpx.Client(base_url=base_url, timeout=300) as http:
        _light_ms(http, 10_000)  # warm up
        alone = [_light_ms(http, 10_001 + i) for i in range(samples)]
    statuses: list[int] = []

    def heavy(i: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{2 + i}")  # ten different clients
        with httpx.Client(base_url=base_url, timeout=600, transport=transport) as client:
            statuses.append(client.post("/api/trace", json={**HEAVY, "seed": 500 + i}).status_code)

    threads = [threading.Thread(target=heavy, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # all ten admitted: one computing, nine in line
    transport = httpx.HTTPTransport(local_address="127.0.0.20")
    with httpx.Client(base_url=base_url, timeout=300, transport=transport) as http:
        loaded = [_light_ms(http, 20_000 + i) for i in range(samples)]
    for thread in threads:
        thread.join()
    return {"neighbour_p95_ms": _p95(loaded), "neighbour_median_ms": statistics.median(loaded),
            "neighbour_max_ms": max(loaded),
            "neighbour_alone_p95_ms": _p95(alone), "neighbour_heavy_ok": float(statuses.count(200))}


def slow_streams(streams: int = 60, budget_mb: int = 256, root: Path = ROOT) -> dict[str, float]:
    """root: another checkout to probe (the figures before this change came from one)."""
    port = free_port()
    server = start_server(port, root, UNROLLED_CACHE_MEGABYTES=str(budget_mb), UNROLLED_STREAM_WAIT_S="0.5",
                    UNROLLED_CLIENT_BURST="1000", UNROLLED_CLIENT_RATE="100000")
    base = f"http://127.0.0.1:{port}"
    knobs = {"arch": "lstm", "text": ("the quick brown fox jumps over the lazy dog " * 6)[:256], "hidden_size": 128,
             "interval_ms": 2000}
    held: list[tuple[httpx.Client, httpx.Response, object]] = []
    refused = 0
    try:
        with httpx.Client(base_url=base, timeout=120) as http:
            warm = {k: v for k, v in knobs.items() if k != "interval_ms"}
            http.post("/api/trace", json={**warm, "seed": 0}).raise_for_status()  # imports, first-call paths
        idle_rss, _ = _rss_mb(server.pid)
        peak = idle_rss
        for seed in range(1, streams + 1):
            client = httpx.Client(base_url=base, timeout=120)
            response = client.send(client.build_request("GET", "/api/trace/stream", params={**knobs, "seed": seed}),
                                   stream=True)
            if response.status_code == 200:
                chunks = response.iter_raw()  # kept: dropping the iterator would close the stream
                next(chunks)  # the meta event: the stream is open and holds its trace
                held.append((client, response, chunks))
            else:
                refused += 1
                response.close()
                client.close()
            peak = max(peak, _rss_mb(server.pid)[0])
        time.sleep(3)
        now, hwm = _rss_mb(server.pid)
        status = httpx.get(f"{base}/api/status", timeout=10).json()
        open_streams = status.get("streaming", len(held))
    finally:
        for client, response, _ in held:
            response.close()
            client.close()
        stop_server(server)
    return {"slow_stream_admitted": float(len(held)), "slow_stream_open": float(open_streams),
            "slow_stream_refused": float(refused),
            "slow_stream_budget_mb": float(budget_mb),
            "slow_stream_trace_mb": status.get("trace_megabytes", status["cached_megabytes"]),
            "slow_stream_idle_rss_mb": idle_rss, "slow_stream_rss_mb": max(peak, now),
            "slow_stream_peak_rss_mb": hwm}


def calibration() -> dict[str, float]:
    """G multiply-adds per second by models.cost's count, over four large shapes, in this process."""
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from app.budget import trace_macs
    from app.engine import run_trace
    from app.schemas import KnobBody

    text = HEAVY["text"]
    shapes = [dict(arch="lstm", text=text, hidden_size=128), dict(arch="rnn", text=text, hidden_size=256, layers=2),
              dict(arch="gru", text=text[:64], hidden_size=256, layers=3),
              dict(arch="transformer", text=text, d_model=128, layers=2, heads=4, d_ff=512)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    helper = ThreadPoolExecutor(1, initializer=torch.set_num_threads, initargs=(1,))
    rates = []
    try:
        run_trace(KnobBody().canonical(), "cpu", helper)  # first-call paths
        for shape in shapes:
            knobs = KnobBody(**shape).canonical()
            started = time.perf_counter()
            run_trace(knobs, "cpu", helper)
            rates.append(trace_macs(knobs) / (time.perf_counter() - started) / 1e9)
    finally:
        helper.shutdown()
        torch.set_num_threads(threads)
    return {"cost_gmacs_per_s_min": min(rates), "cost_gmacs_per_s_max": max(rates)}


def run() -> dict[str, float]:
    port = free_port()
    server = start_server(port)
    try:
        figures = stream_bytes(f"http://127.0.0.1:{port}")
        figures |= neighbour(f"http://127.0.0.1:{port}")
    finally:
        stop_server(server)
    figures |= slow_streams()
    figures |= calibration()
    return figures


if __name__ == "__main__":
    json.dump({k: round(v, 3) for k, v in run().items()}, sys.stdout)
    sys.stdout.write("\n")
