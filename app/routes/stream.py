"""The trace as Server-Sent Events, one step at a time: meta, T x forward, T x backward (from the last
step to the first), summary, done. Event ids count from 0, so a reconnecting EventSource resumes after
Last-Event-ID. The trace is computed (or found) before the first byte, so a bad knob is still a 422;
after that the generator only cuts events from it and stops as soon as the client goes away.

While a stream is open its trace counts against the server's memory budget (TraceService.open_stream):
a new stream waits up to `stream_wait_s` for room, then gets 503 with Retry-After. A client that goes
away ends its stream quietly and is counted at once (`streams_stopped_early`); on shutdown an open
stream ends after `shutdown_timeout_s` with a `reconnect` event (app.shutdown).

The response is a plain StreamingResponse of SSE bytes rather than FastAPI's generator endpoint: that
one's keep-alive task raced the disconnect (an ERROR traceback for 3 to 7 disconnects in 10) and left
the generator to the garbage collector. Every pause here is at most 2 s, so no keep-alive is needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, format_sse_event
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from app.compute import TraceEntry, TraceService
from app.deps import QueryKnobs, QueryTrace, ServiceDep, SettingsDep
from app.fair import Refused
from app.rules import TRACE_RULES, states
from app.serialize import backward_event, meta_event, summary_event
from app.shutdown import RECONNECT_AFTER_MS, Shutdown

router = APIRouter(prefix="/api", tags=["stream"])
MEMORY_RETRY_S = 5  # Retry-After when the streams' memory is full: streams end or move on in seconds


def _events(payload: dict):
    """(event name, data thunk) in stream order; thunks so skipped or unsent events cost nothing."""
    steps = payload["steps"]
    T = len(steps)
    yield "meta", lambda: meta_event(payload)
    for t in range(T):
        yield "forward", lambda t=t: steps[t]
    for t in reversed(range(T)):
        yield "backward", lambda t=t: backward_event(payload, t)
    yield "summary", lambda: summary_event(payload)
    yield "done", lambda: {"events": 2 * T + 3}


def summary_id(T: int) -> int:
    """The summary's event id in a stream of T steps (meta, T forward, T backward, then summary)."""
    return 2 * T + 1


def resume_after(knobs: QueryKnobs, last_event_id: Annotated[int | None, Header(ge=-1)] = None) -> int:
    """The id a reconnecting EventSource saw last (-1: a fresh stream). Once it has seen `done`, answer
    204, which tells EventSource to stop reconnecting, before any trace is computed."""
    if last_event_id is not None and last_event_id >= 2 * len(knobs["text"]) + 2:
        raise HTTPException(204)
    return -1 if last_event_id is None else last_event_id


@dataclass
class _Progress:
    start: int  # the last event id the client had seen (-1: none)
    total: int  # events in the whole stream
    sent: int = 0
    ended_for_shutdown: bool = False

    @property
    def complete(self) -> bool:
        return self.start + 1 + self.sent >= self.total


class TraceEventStream(EventSourceResponse):
    """SSE bytes from an async iterator; whatever ends it (the last event, the client leaving, the
    server's shutdown), the iterator is closed and on_close runs at once, not when the GC gets to it."""

    def __init__(self, events: AsyncIterator[bytes], on_close: Callable[[], None]) -> None:
        super().__init__(events, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (ClientDisconnect, OSError):
            pass  # the client went away in the middle of a send: nothing to report
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                self._on_close()


async def _pause(seconds: float, shutdown: Shutdown) -> None:
    """Sleep between paced events, waking early when the server is closing its streams."""
    with anyio.move_on_after(seconds):
        await shutdown.closing.wait()


async def _stream_bytes(entry: TraceEntry, progress: _Progress, interval_ms: int, shutdown: Shutdown,
                        traces: TraceService) -> AsyncIterator[bytes]:
    for event_id, (name, data) in enumerate(_events(entry.payload)):
        if event_id <= progress.start:
            continue
        if interval_ms and name in ("forward", "backward"):
            await _pause(interval_ms / 1000, shutdown)
        if shutdown.closing.is_set():  # no id: the page resumes after the last event it really got
            progress.ended_for_shutdown = True
            note = {"reason": "shutdown", "retry_ms": RECONNECT_AFTER_MS, "last_event_id": event_id - 1}
            yield format_sse_event(data_str=json.dumps(note), event="reconnect", retry=RECONNECT_AFTER_MS)
            return
        raw = entry.event(event_id, data)  # serialised once; the class's other streams reuse it
        yield format_sse_event(data_str=raw, event=name, id=str(event_id))
        progress.sent += 1
        traces.count("stream_events")
        await anyio.sleep(0)  # a send to a fast socket never suspends: let the disconnect listener run


async def _wait_for_memory(fits: Callable[[], bool], traces: TraceService, wait_s: float) -> None:
    """Past the memory budget, wait a little for other streams to end, then refuse with 503 rather than grow."""
    deadline = time.monotonic() + wait_s
    while not fits():
        if time.monotonic() >= deadline:
            traces.count("refused_memory")
            raise Refused(503, "memory", MEMORY_RETRY_S)
        await anyio.sleep(0.05)


async def stream_room(knobs: QueryKnobs, traces: ServiceDep, settings: SettingsDep) -> None:
    """Before the trace is computed: is there room for one more stream (app.compute.stream_room)?"""
    await _wait_for_memory(lambda: traces.stream_room(knobs), traces, settings.stream_wait_s)


def sse_response(description: str) -> dict:
    """An event stream in the OpenAPI document: each event's fields (`data` is JSON text), as every
    stream here sends them; the description names the events."""
    event = {"type": "object", "required": ["data"], "properties": {
        "event": {"type": "string"}, "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string"}, "retry": {"type": "integer"}}}
    return {"content": {"text/event-stream": {"schema": event}}, "description": description}


_SSE = sse_response("meta, forward x T, backward x T, summary, done (or a final `reconnect` on shutdown)")


@router.get("/trace/stream", response_class=Response, openapi_extra=states(*TRACE_RULES),
            responses={200: _SSE, 204: {"description": "everything was sent already"},
                       422: {"description": "a bad knob"},
                       503: {"description": "no memory for another stream now; see Retry-After"}})
async def stream_trace(
    request: Request,
    start: Annotated[int, Depends(resume_after)],
    _room: Annotated[None, Depends(stream_room)],  # resolved before `entry`: no computation when full
    entry: QueryTrace,
    traces: ServiceDep,
    settings: SettingsDep,
    interval_ms: Annotated[int, Query(ge=0, le=2000, description="pause between step events (play speed)")] = 0,
) -> Response:
    """Stream the trace for the knobs in the query string (the same knobs as POST /api/trace)."""
    # the trace counts against the memory budget for as long as the stream is open
    await _wait_for_memory(lambda: traces.open_stream(entry), traces, settings.stream_wait_s)
    progress = _Progress(start, 2 * len(entry.payload["steps"]) + 3)
    traces.count("streams")

    def closed() -> None:
        traces.close_stream(entry)
        if progress.ended_for_shutdown:
            traces.count("streams_ended_for_shutdown")
        elif not progress.complete:
            traces.count("streams_stopped_early")

    events = _stream_bytes(entry, progress, interval_ms, request.app.state.shutdown, traces)
    return TraceEventStream(events, closed)
