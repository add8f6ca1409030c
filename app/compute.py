"""Where torch work runs: a bounded thread pool, an LRU cache of finished traces keyed by the canonical
knobs, and de-duplication of identical requests in flight (60 students on one teacher's knobs make one
computation). Async callers only await; nothing here blocks the event loop.

A waiter that goes away (a closed stream, a cancelled request) stops waiting; if it was the last one and
the computation has not started yet, the computation is dropped from the queue.

Bounds (app.settings): a knob set whose estimated cost (app.budget) is over the budget is a 422 before
anything runs; fresh computations wait in app.fair's line (fair shares, a rate per client, 429/503
instead of an endless wait); and cached traces plus the traces that open streams hold stay within one
memory budget, the cache giving way to streams (open_stream says no when even that is not enough).
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import torch

from app.budget import check_cost, trace_macs
from app.engine import run_trace
from app.errors import KnobError
from app.fair import CLIENT, FairPool, Refused
from app.serialize import dumps, trace_payload


@dataclass
class TraceEntry:
    knobs: dict[str, Any]
    payload: dict[str, Any]  # app.serialize.trace_payload (numpy arrays; the stream and CSV cut from it)
    body: bytes  # the JSON response, serialised once for everyone who asks
    timings: dict[str, float]  # milliseconds: engine, payload, serialize (of the computation that made it)
    # what keeping it costs: the body, the stream's events (about as big), the arrays, and the gzip copies
    # as TraceService.gzipped makes them (they grow it while the cache or a stream counts it)
    nbytes: int
    events: dict[int | str, str] = field(default_factory=dict)  # SSE data by event id, serialised once, lazily
    gzipped: dict[str, bytes] = field(default_factory=dict)  # a GET answer's gzip by part, made once
    gzip_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one compression at a time

    def event(self, event_id: int | str, make: Callable[[], Any]) -> str:
        """An event's JSON, serialised by the first stream (or summary request) that needs it, for all."""
        raw = self.events.get(event_id)
        if raw is None:
            raw = self.events[event_id] = dumps(make()).decode()
        return raw


def _array_bytes(data: Any) -> int:
    if isinstance(data, np.ndarray):
        return data.nbytes
    if isinstance(data, dict):
        return sum(_array_bytes(v) for v in data.values())
    if isinstance(data, list | tuple):
        return sum(_array_bytes(v) for v in data)
    return 0


@dataclass
class _Flight:
    future: Future
    waiters: int = 0


COUNTERS = ("computations", "cache_hits", "joined", "dropped", "abandoned", "streams", "stream_events",
            "streams_stopped_early", "streams_ended_for_shutdown", "refused_cost", "refused_rate", "refused_queue",
            "refused_busy", "refused_memory")


def cache_key(knobs: dict[str, Any]) -> bytes:
    return orjson.dumps(knobs, option=orjson.OPT_SORT_KEYS)


class TraceService:
    def __init__(self, workers: int, cache_size: int, device: str, torch_threads: int | None = None,
                 cache_megabytes: int = 512, engine: Callable[..., Any] = run_trace, *,
                 max_macs: float | None = None, fair: dict[str, Any] | None = None) -> None:
        """max_macs: the cost budget of one trace (None: none); fair: app.fair.FairPool's options."""
        def init_thread() -> None:
            if torch_threads:
                torch.set_num_threads(torch_threads)

        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="unrolled-trace", initializer=init_thread)
        # one helper thread per worker: a trace hands its Jacobian norms to it and runs BPTT meanwhile,
        # so a lone request uses two cores; under full load the same work just interleaves
        self.helper = ThreadPoolExecutor(workers, thread_name_prefix="unrolled-helper", initializer=init_thread)
        self.fair = FairPool(self.pool, workers, **(fair or {}))
        self.cache_size, self.device, self.engine, self.max_macs = cache_size, device, engine, max_macs
        self.cache_bytes = cache_megabytes * 2**20  # traces differ in size by 1000x: count bytes too
        self._cached_bytes = 0
        self._streams: dict[int, list] = {}  # id(entry) -> [entry, open streams, key]: what streams hold
        self._stream_only_bytes = 0  # of those, the entries that are not (or no longer) in the cache
        self.stats: Counter[str] = Counter()  # COUNTERS
        self._cache: OrderedDict[bytes, TraceEntry] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}
        self._lock = threading.Lock()  # the cache is shared by the loop thread and the workers

    def _compute(self, key: bytes, knobs: dict[str, Any]) -> TraceEntry:
        try:
            with self._lock:
                self.stats["computations"] += 1
            t0 = time.perf_counter()
            trace = self.engine(knobs, self.device, self.helper)
            t1 = time.perf_counter()
            payload = trace_payload(trace, knobs)
            t2 = time.perf_counter()
            body = dumps(payload)
            t3 = time.perf_counter()
            timings = {"engine": (t1 - t0) * 1e3, "payload": (t2 - t1) * 1e3, "serialize": (t3 - t2) * 1e3}
            entry = TraceEntry(knobs, payload, body, timings, 2 * len(body) + _array_bytes(payload))
            with self._lock:
                if self.cache_size and entry.nbytes <= self.cache_bytes:
                    self._cache[key] = entry
                    self._cached_bytes += entry.nbytes
                    while self._cache and (len(self._cache) > self.cache_size
                                           or self._cached_bytes + self._stream_only_bytes > self.cache_bytes):
                        self._evict(next(iter(self._cache)))
            return entry
        finally:
            with self._lock:  # from here on a new request finds the cache, not this flight
                self._flights.pop(key, None)

    def _evict(self, key: bytes) -> None:
        """Drop a cache entry (under the lock); an open stream keeps its bytes counted."""
        entry = self._cache.pop(key)
        self._cached_bytes -= entry.nbytes
        if id(entry) in self._streams:
            self._stream_only_bytes += entry.nbytes

    async def trace(self, knobs: dict[str, Any]) -> TraceEntry:
        """The trace for canonical knobs: from the cache, from an identical computation in flight, or new.
        Raises KnobError (knob_cost) over the budget and app.fair.Refused when the line is full."""
        key = cache_key(knobs)
        macs = trace_macs(knobs)
        try:
            check_cost(macs, self.max_macs)
        except KnobError:
            self.count("refused_cost")
            raise
        with self._lock:
            if (entry := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                self.stats["cache_hits"] += 1
                return entry
            flight = self._flights.get(key)
            if flight is None:  # only a fresh computation is charged to its client
                try:
                    future = self.fair.submit(CLIENT.get(), macs, self._compute, key, knobs)
                except Refused as refused:
                    self.stats[f"refused_{refused.reason}"] += 1
                    raise
                flight = self._flights[key] = _Flight(future)
            else:
                self.stats["joined"] += 1
            flight.waiters += 1
        try:
            # shield: one waiter going away must not cancel the computation the others wait for
            return await asyncio.shield(asyncio.wrap_future(flight.future))
        except asyncio.CancelledError:
            with self._lock:
                if flight.waiters == 1 and flight.future.cancel():
                    self._flights.pop(key, None)
                    self.stats["dropped"] += 1
            raise
        finally:
            with self._lock:
                flight.waiters -= 1

    def open_stream(self, entry: TraceEntry) -> bool:
        """Count a stream's trace against the memory budget while it is open; False if it does not fit
        even after the cache has given way (the caller waits a little, then answers 503)."""
        with self._lock:
            held = self._streams.get(id(entry))
            if held is not None:  # another stream of the same trace: no more memory
                held[1] += 1
                return True
            if self._cache.get(cache_key(entry.knobs)) is not entry:
                for key in [k for k, e in self._cache.items() if id(e) not in self._streams]:  # oldest first
                    if self._cached_bytes + self._stream_only_bytes + entry.nbytes <= self.cache_bytes:
                        break
                    self._evict(key)
                if self._cached_bytes + self._stream_only_bytes + entry.nbytes > self.cache_bytes:
                    return False
                self._stream_only_bytes += entry.nbytes
            self._streams[id(entry)] = [entry, 1, cache_key(entry.knobs)]
            return True

    def stream_room(self, knobs: dict[str, Any]) -> bool:
        """Whether a stream of these knobs may fit, judged before its trace is computed (a stream refused
        after the computation would have wasted it): yes if its trace is cached or already streaming,
        else if the streams leave room for one more trace of their typical size."""
        key = cache_key(knobs)
        with self._lock:
            if key in self._cache or any(held[2] == key for held in self._streams.values()):
                return True
            if not self._streams:
                return True
            held_bytes = sum(held[0].nbytes for held in self._streams.values())
            return held_bytes + held_bytes / len(self._streams) <= self.cache_bytes

    def close_stream(self, entry: TraceEntry) -> None:
        with self._lock:
            held = self._streams[id(entry)]
            held[1] -= 1
            if held[1] == 0:
                del self._streams[id(entry)]
                if self._cache.get(cache_key(entry.knobs)) is not entry:
                    self._stream_only_bytes -= entry.nbytes

    def gzipped(self, entry: TraceEntry, part: str, raw: bytes, level: int) -> bytes:
        """A part of a trace gzipped by the first request that accepts gzip, kept for everyone after it (a
        class opening one lesson compresses its traces once, not once per student). The copy counts
        against the memory budget with its trace, and is kept only while the cache or a stream holds
        the trace. In a thread; the class's other requests wait for the first one's copy."""
        with entry.gzip_lock:
            packed = entry.gzipped.get(part)
            if packed is None:
                packed = gzip.compress(raw, compresslevel=level, mtime=0)
                self._keep_gzipped(entry, part, packed)
        return packed

    def _keep_gzipped(self, entry: TraceEntry, part: str, packed: bytes) -> None:
        with self._lock:
            cached = self._cache.get(cache_key(entry.knobs)) is entry
            if not cached and id(entry) not in self._streams:
                return  # gone from the cache: this request's copy only
            entry.gzipped[part] = packed
            entry.nbytes += len(packed)
            if cached:
                self._cached_bytes += len(packed)
                while self._cached_bytes + self._stream_only_bytes > self.cache_bytes and len(self._cache) > 1:
                    self._evict(next(iter(self._cache)))
            else:
                self._stream_only_bytes += len(packed)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Any other blocking work (CSV export ...) in the same bounded pool."""
        return await asyncio.wrap_future(self.pool.submit(fn, *args))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counters = dict.fromkeys(COUNTERS, 0) | self.stats
            return {"cached": len(self._cache), "cached_megabytes": round(self._cached_bytes / 2**20, 1),
                    "streaming": sum(held[1] for held in self._streams.values()),
                    "trace_megabytes": round((self._cached_bytes + self._stream_only_bytes) / 2**20, 1),
                    "in_flight": len(self._flights), "pool": self.fair.snapshot(), **counters}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.helper.shutdown(wait=False, cancel_futures=True)
