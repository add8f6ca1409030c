"""Who computes next: fair shares of the worker pool, a rate per client and a bounded line.

Only fresh computations come through here. A request that finds its trace in the cache, or joins an
identical computation already in flight, costs nothing and is never refused: 60 students on one
teacher's knobs are one computation, charged once, to the first who asked.

- Rate: a client (its address) may start `rate` computations a minute and `burst` at once (a token
  bucket); past that, 429 with Retry-After.
- Share: a client starts heavy work only while it holds fewer than `client_workers` workers (light
  work, short by definition, may take any free worker); the rest waits in line, up to
  `client_queue_cost` waiting multiply-adds per client (429 past that: its own line is full).
- Lanes: with two or more workers one is kept for light work (cost <= `light_cost`), so ten of the
  heaviest allowed requests make a light trace wait for nothing but its own share of the CPU.
- Line: at most `queue_limit` computations and `queue_cost` multiply-adds wait in all; past that, 503
  with a Retry-After estimated from the line and the pool's measured speed, never an ever-longer wait.
- Order: a free worker goes to the waiting client that holds the fewest workers, then to the earliest.
"""

from __future__ import annotations

import contextvars
import itertools
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

# The client of the request being served (set by ClientMiddleware; tasks started by it inherit it).
CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("unrolled_client", default="local")


class ClientMiddleware:
    """Names the request's client (its address, as the server saw it; uvicorn takes it from
    X-Forwarded-For only behind a proxy it trusts) for the fair pool."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = CLIENT.set(client[0] if client else "local")
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT.reset(token)


class Refused(Exception):
    """Not now: 429 (this client asked too much) or 503 (the server is full), with Retry-After seconds."""

    def __init__(self, status: int, reason: str, retry_after: int) -> None:
        super().__init__(f"{status} {reason}, retry after {retry_after} s")
        self.status, self.reason, self.retry_after = status, reason, retry_after


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """A token bucket per client: `rate_per_minute` tokens a minute, `burst` at once; past them take()
    raises Refused(429, reason) with the seconds until the next token (0 a minute: no limit)."""

    def __init__(self, rate_per_minute: float, burst: int, reason: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.reason, self.clock = rate_per_minute / 60, burst, reason, clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> None:
        if not self.rate:
            return
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) > 10000:  # forget clients whose buckets have refilled
                full = [c for c, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
                for c in full:
                    del self._buckets[c]
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            raise Refused(429, self.reason, max(1, math.ceil((1 - bucket.tokens) / self.rate)))
        bucket.tokens -= 1


@dataclass
class _Job:
    client: str
    cost: float
    light: bool
    fn: Callable[[], Any]
    future: Future
    seq: int


@dataclass
class _Client:
    running: int = 0
    waiting_cost: float = 0.0
    jobs: list[_Job] = field(default_factory=list)


class FairPool:
    def __init__(self, pool: Executor, workers: int, *, client_workers: int | None = None,
                 light_cost: float = math.inf, rate_per_minute: float = 0, burst: int = 1,
                 client_queue_cost: float = math.inf, queue_cost: float = math.inf, queue_limit: int = 1 << 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pool, self.workers = pool, workers
        self.client_workers = client_workers or max(1, workers // 2)
        self.heavy_workers = max(1, workers - 1)  # one worker stays free for light work
        self.light_cost = light_cost
        self.client_queue_cost, self.queue_cost, self.queue_limit = client_queue_cost, queue_cost, queue_limit
        self.clock = clock
        self.speed = 1e10  # multiply-adds per second per worker, learned from finished work (for Retry-After)
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._rate_limit = TokenBuckets(rate_per_minute, burst, "rate", clock)
        self._seq = itertools.count()
        self._running = self._running_heavy = 0
        self._waiting = 0
        self._waiting_cost = 0.0

    # --- admission ---

    def _retry_after(self, cost: float) -> int:
        return min(120, max(1, math.ceil(cost / (self.speed * self.workers))))

    def _take_token(self, client: str) -> None:
        self._rate_limit.take(client)

    def submit(self, client: str, cost: float, fn: Callable[..., Any], *args: Any) -> Future:
        """Run fn(*args) on a worker when its turn comes; raises Refused instead of queueing forever."""
        future: Future = Future()
        with self._lock:
            state = self._clients.setdefault(client, _Client())
            full = self._waiting >= self.queue_limit or self._waiting_cost + cost > self.queue_cost
            if full and self._running >= self.workers:  # with a worker free nothing waits: take it
                raise Refused(503, "busy", self._retry_after(self._waiting_cost + cost))
            if state.running >= self.client_workers and state.waiting_cost + cost > self.client_queue_cost:
                raise Refused(429, "queue", self._retry_after(state.waiting_cost + cost))
            self._take_token(client)
            job = _Job(client, cost, cost <= self.light_cost, lambda: fn(*args), future, next(self._seq))
            state.jobs.append(job)
            state.waiting_cost += cost
            self._waiting += 1
            self._waiting_cost += cost
            self._dispatch()
        future.add_done_callback(lambda f: self._withdraw(job) if f.cancelled() else None)
        return future

    def _withdraw(self, job: _Job) -> None:
        """A job cancelled while it waited (its last waiter left) leaves the line at once."""
        with self._lock:
            state = self._clients.get(job.client)
            if state is not None and job in state.jobs:
                self._unqueue(state, job)
                self._forget(job.client)

    # --- dispatch (under the lock) ---

    def _next(self) -> _Job | None:
        best: tuple[int, int] | None = None
        chosen: _Job | None = None
        for state in self._clients.values():
            heavy_ok = state.running < self.client_workers and self._running_heavy < self.heavy_workers
            for job in state.jobs:  # each client's own work in arrival order; a light job may pass a heavy one
                if job.light or heavy_ok:
                    rank = (state.running, job.seq)
                    if best is None or rank < best:
                        best, chosen = rank, job
                    break
        return chosen

    def _dispatch(self) -> None:
        while self._running < self.workers:
            job = self._next()
            if job is None:
                return
            state = self._clients[job.client]
            self._unqueue(state, job)
            if not job.future.set_running_or_notify_cancel():  # the last waiter left while it waited
                self._forget(job.client)
                continue
            state.running += 1
            self._running += 1
            self._running_heavy += not job.light
            try:
                self.pool.submit(self._run, job)
            except RuntimeError as closed:  # the pool was shut down (the server is stopping)
                state.running -= 1
                self._running -= 1
                self._running_heavy -= not job.light
                job.future.set_exception(closed)

    def _unqueue(self, state: _Client, job: _Job) -> None:
        state.jobs.remove(job)
        state.waiting_cost -= job.cost
        self._waiting -= 1
        self._waiting_cost -= job.cost

    def _forget(self, client: str) -> None:
        state = self._clients.get(client)
        if state is not None and not state.running and not state.jobs:
            del self._clients[client]

    def _run(self, job: _Job) -> None:
        started = time.perf_counter()
        try:
            result = job.fn()
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits
            job.future.set_exception(err)
        else:
            job.future.set_result(result)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                if job.cost > 1e8 and elapsed > 0.05:  # small traces are all overhead: they say nothing
                    self.speed = 0.8 * self.speed + 0.2 * job.cost / elapsed
                state = self._clients[job.client]
                state.running -= 1
                self._running -= 1
                self._running_heavy -= not job.light
                self._forget(job.client)
                self._dispatch()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"running": self._running, "waiting": self._waiting,
                    "waiting_gmacs": round(self._waiting_cost / 1e9, 1), "clients": len(self._clients),
                    "gmacs_per_s": round(self.speed / 1e9, 1)}


def pool_options(settings: Any) -> dict[str, Any]:
    """FairPool's options from app.settings.Settings (the budgets there are in G multiply-adds)."""
    budget = settings.max_trace_gmacs * 1e9
    return {"client_workers": settings.client_workers, "light_cost": settings.light_gmacs * 1e9,
            "rate_per_minute": settings.client_rate, "burst": settings.client_burst,
            "client_queue_cost": settings.client_queue_budgets * budget,
            "queue_cost": settings.queue_budgets * budget, "queue_limit": settings.queue_limit}
