"""Dependencies as Annotated aliases: settings, the trace service, validated canonical knobs, the trace."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from app.compute import TraceEntry, TraceService
from app.engine import check_knobs
from app.schemas import KnobBody, KnobQuery, TraceKnobs
from app.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_service(request: Request) -> TraceService:
    return request.app.state.traces


ServiceDep = Annotated[TraceService, Depends(get_service)]


def _canonical(knobs: TraceKnobs, settings: Settings) -> dict[str, Any]:
    check_knobs(knobs, settings)
    return knobs.canonical()


def knobs_from_query(knobs: Annotated[KnobQuery, Query()], settings: SettingsDep) -> dict[str, Any]:
    return _canonical(knobs, settings)


def knobs_from_body(knobs: KnobBody, settings: SettingsDep) -> dict[str, Any]:
    return _canonical(knobs, settings)


QueryKnobs = Annotated[dict[str, Any], Depends(knobs_from_query)]
BodyKnobs = Annotated[dict[str, Any], Depends(knobs_from_body)]


async def trace_for_query(knobs: QueryKnobs, traces: ServiceDep) -> TraceEntry:
    """Resolved before a response starts, so an engine error is still a 422, not a broken stream."""
    return await traces.trace(knobs)


QueryTrace = Annotated[TraceEntry, Depends(trace_for_query)]
