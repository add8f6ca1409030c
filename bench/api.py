"""API speed: POST /api/trace for an LSTM of T=200, H=128 end to end through HTTP against a real uvicorn
on loopback, over a fused torch.nn.LSTM forward+backward of the same size in this process; the time
to the first SSE event of a T=64 stream; and four different traces requested at once (a class whose
learners turned different knobs), against four times one alone; and a class of 60 fetching one cached
trace at once (api_class_60_cached_ms).

Every request carries a new seed, so the cache never answers and every request computes. API and fused
timings are interleaved so that load from elsewhere on the machine weighs on both alike.

    python -m bench.api            prints one JSON line (run() returns the same figures)
    python -m bench.run            every suite; the last line merges them
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import torch

from bench.common import free_port, start_server, stop_server
from models.device import pick_device

ROOT = Path(__file__).resolve().parent.parent
T_TRACE, T_STREAM, H = 200, 64, 128
CORPUS = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. "


def _text(T: int) -> str:
    return (CORPUS * (T // len(CORPUS) + 1))[:T]


class FusedLSTM:
    """torch.nn.LSTM (cuDNN / fused CPU kernel) with the same readout and loss: the reference."""

    def __init__(self, text: str, device: torch.device) -> None:
        vocab = sorted(set(text))
        V = len(vocab)
        tokens = torch.tensor([vocab.index(ch) for ch in text], device=device)
        self.device = device
        self.lstm = torch.nn.LSTM(V, H).to(device)
        self.readout = torch.nn.Linear(H, V).to(device)
        self.x = torch.nn.functional.one_hot(tokens, V).float()[:, None]  # (T, 1, V)
        self.target = tokens[1:]

    def step_ms(self) -> float:
        start = time.perf_counter()
        out, _ = self.lstm(self.x)
        loss = torch.nn.functional.cross_entropy(self.readout(out[:-1, 0]), self.target, reduction="sum")
        loss.backward()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) * 1e3


def _post(http: httpx.Client, seed: int) -> dict[str, float]:
    """One POST, end to end, and the server's own account of it (its Server-Timing header)."""
    knobs = {"arch": "lstm", "text": _text(T_TRACE), "hidden_size": H, "seed": seed}
    start = time.perf_counter()
    response = http.post("/api/trace", json=knobs)
    elapsed = (time.perf_counter() - start) * 1e3
    response.raise_for_status()
    timing = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    return {"total": elapsed, "bytes": len(response.content), **{k: float(v) for k, v in timing.items()}}


def _first_events_ms(http: httpx.Client, seed: int) -> tuple[float, float]:
    """Milliseconds from sending the request to the first event, and to the first forward event."""
    params = {"arch": "lstm", "text": _text(T_STREAM), "hidden_size": 64, "seed": seed}
    start = time.perf_counter()
    first = None
    with http.stream("GET", "/api/trace/stream", params=params) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and first is None:
                first = (time.perf_counter() - start) * 1e3
            if line == "event: forward":
                return first, (time.perf_counter() - start) * 1e3  # then disconnect
    raise RuntimeError("the stream ended without a forward event")


def _concurrent_ms(base_url: str, seeds: list[int]) -> float:
    """Wall time for len(seeds) different traces posted at once, each on its own connection."""
    clients = [httpx.Client(base_url=base_url, timeout=300) for _ in seeds]
    try:
        with ThreadPoolExecutor(len(seeds)) as pool:
            start = time.perf_counter()
            list(pool.map(_post, clients, seeds))
            return (time.perf_counter() - start) * 1e3
    finally:
        for client in clients:
            client.close()


def _class_ms(base_url: str, seed: int, students: int = 60) -> float:
    """Wall time for a class opening one page at once: `students` clients, each on its own connection,
    GET the same cached trace (without its weights) gzipped, read as raw bytes (no decoding here)."""
    params = {"arch": "lstm", "text": _text(T_TRACE), "hidden_size": H, "seed": seed, "params": "false"}
    clients = [httpx.Client(base_url=base_url, timeout=300, headers={"Accept-Encoding": "gzip"})
               for _ in range(students)]

    def fetch(client: httpx.Client) -> int:
        with client.stream("GET", "/api/trace.json", params=params) as response:
            response.raise_for_status()
            return sum(len(chunk) for chunk in response.iter_raw())

    try:
        fetch(clients[0])  # computed (and cached) before the class arrives
        with ThreadPoolExecutor(students) as pool:
            start = time.perf_counter()
            list(pool.map(fetch, clients))
            return (time.perf_counter() - start) * 1e3
    finally:
        for client in clients:
            client.close()


def run(repeats: int = 9, stream_repeats: int = 15, concurrent_rounds: int = 3) -> dict[str, float]:
    """Flat numeric figures (bench.run prints and merges every suite's), all prefixed api_ or stream_."""
    device = pick_device(os.environ.get("UNROLLED_DEVICE", "auto"))
    threads_before = torch.get_num_threads()
    port = free_port()
    server = start_server(port, UNROLLED_DEVICE=device.type, UNROLLED_CACHE_SIZE="4")
    fused = FusedLSTM(_text(T_TRACE), device)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
            for seed in (1, 2):  # warm up: imports, allocator, first-call paths
                _post(http, seed)
                fused.step_ms()
            _first_events_ms(http, 3)
            # the reference gets its best thread count (1, or all cores), so the ratio errs against us
            threads = sorted({1, torch.get_num_threads()})
            posts, fused_ms = [], {n: [] for n in threads}
            for i in range(repeats):
                for n in threads:
                    torch.set_num_threads(n)
                    fused_ms[n].append(statistics.median(fused.step_ms() for _ in range(5)))
                posts.append(_post(http, 1000 + i))
            cached = [_post(http, 1000 + repeats - 1)["total"] for _ in range(repeats)]  # the last trace, a hit
            firsts = [_first_events_ms(http, 2000 + i) for i in range(stream_repeats)]
            url = f"http://127.0.0.1:{port}"
            together = [_concurrent_ms(url, [3000 + 4 * r + i for i in range(4)]) for r in range(concurrent_rounds)]
            class_ms = [_class_ms(url, 4000 + r) for r in range(concurrent_rounds)]
    finally:
        torch.set_num_threads(threads_before)
        stop_server(server)

    def median(key: str) -> float:
        return statistics.median(p[key] for p in posts)

    fused_by_threads = {n: statistics.median(v) for n, v in fused_ms.items()}
    api_ms, fused_med = median("total"), min(fused_by_threads.values())
    return {
        "api_trace_over_fused": api_ms / fused_med,
        "api_trace_ms": api_ms,
        "api_fused_lstm_ms": fused_med,  # the faster of 1 thread and all threads
        "api_fused_lstm_1thread_ms": fused_by_threads[1],
        "api_engine_ms": median("engine"),  # trace_recurrent itself, inside the server
        "api_engine_over_fused": median("engine") / fused_med,
        "api_payload_ms": median("payload"),
        "api_serialize_ms": median("serialize"),  # orjson, the whole body
        "api_http_and_rest_ms": api_ms - median("engine") - median("payload") - median("serialize"),
        "api_cached_trace_ms": statistics.median(cached),  # the same knobs again: HTTP and transfer only
        "api_response_mb": posts[-1]["bytes"] / 2**20,
        "api_4_concurrent_ms": statistics.median(together),  # 4 different traces posted at once (2 workers)
        "api_4_concurrent_over_4_alone": statistics.median(together) / (4 * api_ms),
        "api_class_60_cached_ms": statistics.median(class_ms),  # 60 students fetch one cached trace at once
        "stream_first_event_ms": statistics.median(f for f, _ in firsts),
        "stream_first_forward_ms": statistics.median(f for _, f in firsts),
        "api_cuda": float(device.type == "cuda"),
        "api_load_average_1min": os.getloadavg()[0],
    }


if __name__ == "__main__":
    json.dump({k: round(v, 3) for k, v in run().items()}, sys.stdout)
    sys.stdout.write("\n")
