"""The trace as Server-Sent Events, one step at a time: meta, T x forward, T x backward (from the last
step to the first), summary, done. Event ids count from 0, so a reconnecting EventSource resumes after
Last-Event-ID. The trace is computed (or found) before the first byte, so a bad knob is still a 422;
after that the generator only cuts events from it and stops as soon as the client goes away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.deps import QueryKnobs, QueryTrace, ServiceDep
from app.serialize import backward_event, meta_event, summary_event

router = APIRouter(prefix="/api", tags=["stream"])


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


@router.get("/trace/stream", response_class=EventSourceResponse,
            responses={204: {"description": "everything was sent already"}, 422: {"description": "a bad knob"}})
async def stream_trace(
    start: Annotated[int, Depends(resume_after)],
    entry: QueryTrace,
    traces: ServiceDep,
    interval_ms: Annotated[int, Query(ge=0, le=2000, description="pause between step events (play speed)")] = 0,
) -> AsyncIterator[ServerSentEvent]:
    """Stream the trace for the knobs in the query string (the same knobs as POST /api/trace)."""
    sent, total = 0, 2 * len(entry.payload["steps"]) + 3
    traces.count("streams")
    try:
        for event_id, (name, data) in enumerate(_events(entry.payload)):
            if event_id <= start:
                continue
            if interval_ms and name in ("forward", "backward"):
                await anyio.sleep(interval_ms / 1000)
            raw = entry.event(event_id, data)  # serialised once; the class's other streams reuse it
            yield ServerSentEvent(raw_data=raw, event=name, id=str(event_id))
            sent += 1
            traces.count("stream_events")
    finally:
        # reached on completion and on disconnect alike (the generator is cancelled or closed)
        if start + 1 + sent < total:
            traces.count("streams_stopped_early")
