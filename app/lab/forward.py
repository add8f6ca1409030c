"""Several worker processes, one lab: with `UNROLLED_LAB_URL` set, this process forwards everything that
touches a training run or an uploaded model to the one process that owns them (`unrolled serve --workers N`
starts it on loopback and points every worker at it).

A run trains in the memory of the process that started it, and an upload lives in the memory of the process
that received it, so with N workers on one port the page's next request (the run's events, pause, the bench's
`checkpoint=run:<id>`) would land on a process that never heard of it four times in five. Forwarded here:

    /api/runs..., /api/models...                the lab's own API (starting, following, pausing, uploading)
    any request naming run:<id> or upload:<h>   in its query or its JSON body (traces, the bench page)

The owner sees the student's address in X-Forwarded-For (uvicorn trusts it from loopback only, and this sets
it from the address this worker saw, never from the client's own header), so the lab's per-client limits
still count per student. The answer streams back as it comes (a run's events are Server-Sent Events), and a
student who leaves closes the forwarded stream at once. Compression and the security headers are this
worker's own stack's, outside this middleware.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import request_lang
from app.i18n import load_strings
from app.lab.memory import PREFIXES

OWNED_PATHS = ("/api/runs", "/api/models")
NAME_MARKERS = tuple(f'"{p}'.encode() for p in PREFIXES)  # a memory name as a JSON string value
# Not passed on: hop-by-hop headers, and the encoding (this worker compresses what it sends itself).
DROPPED_REQUEST = {b"host", b"connection", b"keep-alive", b"transfer-encoding", b"accept-encoding",
                   b"x-forwarded-for", b"content-length"}
RETRY_AFTER_S = 5  # the owner is starting or restarting
DROPPED_RESPONSE = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"content-encoding"}


def names_memory_model(query_string: bytes) -> bool:
    return any(value.startswith(PREFIXES) for _, value in parse_qsl(query_string.decode("latin-1")))


class LabForwarder:
    def __init__(self, app: ASGIApp, lab_url: str, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        # No read timeout: a run's event stream is quiet while the run waits in line or is paused.
        self.client = httpx.AsyncClient(base_url=lab_url.rstrip("/"), timeout=httpx.Timeout(10.0, read=None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(OWNED_PATHS) or names_memory_model(scope.get("query_string", b"")):
            await self.forward(scope, receive, send, body=None)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body, complete = await self._read_small_body(receive)
        if complete and any(marker in body for marker in NAME_MARKERS):
            await self.forward(scope, receive, send, body=body)
            return
        await self.app(scope, _replay(body, complete, receive), send)

    async def _read_small_body(self, receive: Receive) -> tuple[bytes, bool]:
        """The body, read up to the body limit; (what was read, whether that was all of it)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), False
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True
            if size > self.max_body_bytes:  # the app's own limit answers 413 for it
                return b"".join(chunks), False

    async def forward(self, scope: Scope, receive: Receive, send: Send, body: bytes | None) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in DROPPED_REQUEST]
        client = scope.get("client")
        headers.append((b"x-forwarded-for", (client[0] if client else "127.0.0.1").encode()))
        headers.append((b"accept-encoding", b"identity"))  # httpx would ask for gzip by itself
        content = body if body is not None else _body_stream(receive)
        url = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        request = self.client.build_request(scope["method"], url, headers=headers, content=content)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError:
            await _unavailable(scope, send)
            return
        try:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in DROPPED_RESPONSE]})
            # The answer ends when it is all sent, when the student leaves, or when this worker is stopping
            # (its open streams end after the shutdown timeout; EventSource comes back with Last-Event-ID).
            waiting = {asyncio.ensure_future(_relay(response, send)), asyncio.ensure_future(_disconnected(receive))}
            shutdown = getattr(scope["app"].state, "shutdown", None) if "app" in scope else None
            if shutdown is not None:
                waiting.add(asyncio.ensure_future(shutdown.closing.wait()))
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in waiting:
                task.cancel()
            for task in waiting:
                with contextlib.suppress(asyncio.CancelledError, OSError, httpx.HTTPError):
                    await task
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


async def _relay(response: httpx.Response, send: Send) -> None:
    async for chunk in response.aiter_raw():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _body_stream(receive: Receive):
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A receive that first gives back the bytes already read, then the rest from the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


async def _unavailable(scope: Scope, send: Send) -> None:
    lang = request_lang(Request(scope))
    body = json.dumps({"detail": load_strings(lang)["err_lab_unreachable"].format(retry_after=RETRY_AFTER_S)},
                      ensure_ascii=True).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(RETRY_AFTER_S).encode()),
                            (b"content-language", lang.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
