"""Dependencies as Annotated aliases: settings, the trace service, validated canonical knobs, the trace."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

from app.compute import TraceEntry, TraceService
from app.engine import check_knobs
from app.lab.memory import RUN_PREFIX, UPLOAD_PREFIX
from app.lab.upload import check_upload
from app.schemas import KnobBody, KnobQuery, TraceKnobs
from app.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_service(request: Request) -> TraceService:
    return request.app.state.traces


ServiceDep = Annotated[TraceService, Depends(get_service)]


def _canonical(knobs: TraceKnobs, settings: Settings, request: Request) -> dict[str, Any]:
    if knobs.checkpoint is not None and knobs.checkpoint.startswith(RUN_PREFIX):
        # a training run's weights: frozen at their current step, whose name keys the cache
        knobs = knobs.model_copy(update={"checkpoint": request.app.state.lab.freeze(knobs.checkpoint, knobs.arch)})
    elif knobs.checkpoint is not None and knobs.checkpoint.startswith(UPLOAD_PREFIX):
        check_upload(request.app.state.memory, knobs.checkpoint, knobs.arch)
    check_knobs(knobs, settings)
    return knobs.canonical()


def knobs_from_query(knobs: Annotated[KnobQuery, Query()], settings: SettingsDep, request: Request) -> dict[str, Any]:
    return _canonical(knobs, settings, request)


def knobs_from_body(knobs: KnobBody, settings: SettingsDep, request: Request) -> dict[str, Any]:
    return _canonical(knobs, settings, request)


QueryKnobs = Annotated[dict[str, Any], Depends(knobs_from_query)]
BodyKnobs = Annotated[dict[str, Any], Depends(knobs_from_body)]


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone: after the request body, the next ASGI message is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _trace_while_connected(request: Request, traces: TraceService, knobs: dict[str, Any]) -> TraceEntry:
    """Wait for the trace, but stop waiting if the client leaves (a learner dragging a slider abandons
    one request per position): the last waiter leaving drops a computation that has not started yet."""
    compute = asyncio.ensure_future(traces.trace(knobs))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({compute, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not compute.done():
        compute.cancel()
        traces.count("abandoned")
        raise HTTPException(499, "client closed the request")  # nobody reads it; the access log does
    return compute.result()


async def trace_for_query(request: Request, knobs: QueryKnobs, traces: ServiceDep) -> TraceEntry:
    """Resolved before a response starts, so an engine error is still a 422, not a broken stream."""
    return await _trace_while_connected(request, traces, knobs)


async def trace_for_body(request: Request, knobs: BodyKnobs, traces: ServiceDep) -> TraceEntry:
    return await _trace_while_connected(request, traces, knobs)


QueryTrace = Annotated[TraceEntry, Depends(trace_for_query)]
BodyTrace = Annotated[TraceEntry, Depends(trace_for_body)]
