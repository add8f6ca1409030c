"""The trace API: what can be traced, the whole trace as JSON, and per-step norms as CSV."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.compute import TraceEntry
from app.deps import BodyTrace, QueryTrace, ServiceDep, SettingsDep
from app.engine import checkpoints_for, transformer_module
from app.http import GZIP_LEVEL, revalidated, wants_gzip, weak_etag
from app.knobs import knob_specs
from app.routes.stream import summary_id
from app.rules import TRACE_RULES, states
from app.schemas import TraceResponse
from app.serialize import norms_csv, summary_event

router = APIRouter(prefix="/api", tags=["api"])

_UNPROCESSABLE = {422: {"description": "a knob is out of range or inconsistent; `loc` names it"}}


@router.get("/architectures")
def get_architectures(settings: SettingsDep) -> dict[str, Any]:
    """Every architecture with every knob that applies to it: type, default, limits, choices."""
    available = {"rnn": True, "lstm": True, "gru": True, "sgru": True, "transformer": transformer_module() is not None}
    return {
        "architectures": [
            {"arch": arch, "available": ok, "knobs": knob_specs(arch, settings, checkpoints_for(arch))}
            for arch, ok in available.items()
        ],
        "stream": {"interval_ms": {"type": "integer", "nullable": False, "default": 0, "min": 0, "max": 2000,
                                   "description": "GET /api/trace/stream only: pause between step events"}},
        "notes": "Knobs that do not apply to an architecture are ignored. Query strings may carry other "
        "parameters (page state); JSON bodies may not.",
    }


async def _json(entry: TraceEntry, request: Request, download: bool = False) -> Response:
    # Server-Timing: what the computation behind this trace cost (once; later requests share it)
    headers = {"Server-Timing": ", ".join(f"{k};dur={v:.2f}" for k, v in entry.timings.items())}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{_filename(entry)}.json"'
    if request.method == "GET":  # the browser may keep it and revalidate
        return await _part(request, entry, "body", entry.body, headers)
    return await _gzipped(request, entry, "body", Response(entry.body, media_type="application/json", headers=headers))


async def _part(request: Request, entry: TraceEntry, part: str, raw: bytes | str,
                headers: dict[str, str] | None = None) -> Response:
    """A part of a cached trace as a revalidated GET answer, gzipped once for everyone."""
    response = revalidated(request, raw, "application/json", _etag(entry, part, raw), headers)
    return response if response.status_code == 304 else await _gzipped(request, entry, part, response)


async def _gzipped(request: Request, entry: TraceEntry, part: str, response: Response) -> Response:
    body = bytes(response.body)
    if not wants_gzip(request, len(body)):
        return response
    traces = request.app.state.traces
    packed = await anyio.to_thread.run_sync(traces.gzipped, entry, part, body, GZIP_LEVEL)
    keep = {k: v for k, v in response.headers.items() if k != "content-length"}
    return Response(packed, headers={**keep, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


def _etag(entry: TraceEntry, part: str, raw: bytes | str) -> str:
    """One ETag per part of a cached trace, hashed once (the class's other requests reuse it)."""
    return json.loads(entry.event(f"etag:{part}", lambda: weak_etag(raw)))


def _filename(entry: TraceEntry) -> str:
    knobs = entry.knobs
    model = knobs.get("checkpoint") or f"seed{knobs['seed']}"
    return f"unrolled-{knobs['arch']}-{model}"


@router.post("/trace", response_class=Response, openapi_extra=states(*TRACE_RULES),
             responses={200: {"model": TraceResponse}, **_UNPROCESSABLE})
async def post_trace(entry: BodyTrace, request: Request) -> Response:
    """The whole trace for a JSON body of knobs. Non-finite numbers are null; `overflow` flags say where."""
    return await _json(entry, request)


@router.get("/trace.json", response_class=Response, openapi_extra=states(*TRACE_RULES),
            responses={200: {"model": TraceResponse}, **_UNPROCESSABLE})
async def get_trace_json(
    request: Request,
    entry: QueryTrace,
    params: Annotated[bool, Query(description="false: without the weights (a page's figures rarely need "
                                              "them, and a char model's are megabytes)")] = True,
) -> Response:
    """The same trace for knobs in the query string, as a file to download (the page's JSON export)."""
    if params:
        return await _json(entry, request, download=True)
    raw = entry.event("without-params", lambda: {k: v for k, v in entry.payload.items() if k != "params"})
    return await _part(request, entry, "without-params", raw)


@router.get("/trace/params", response_class=Response, openapi_extra=states(*TRACE_RULES), responses=_UNPROCESSABLE)
async def get_trace_params(request: Request, entry: QueryTrace) -> Response:
    """Only the weights under torch.nn's names (what the equation panel fills its numbers from)."""
    raw = entry.event("params", lambda: entry.payload["params"])
    return await _part(request, entry, "params", raw)


@router.get("/trace/summary", response_class=Response, openapi_extra=states(*TRACE_RULES), responses=_UNPROCESSABLE)
async def get_trace_summary(request: Request, entry: QueryTrace) -> Response:
    """Only what the stream's `summary` event carries (losses, clipping, cuts, the Pascanu quantities and
    the T x T gradient-flow matrix): the page's compare strip needs this much of four traces."""
    T = len(entry.payload["steps"])
    raw = entry.event(summary_id(T), lambda: summary_event(entry.payload))
    return await _part(request, entry, "summary", raw)


@router.get("/trace.csv", response_class=Response, openapi_extra=states(*TRACE_RULES),
            responses={200: {"content": {"text/csv": {}}}, **_UNPROCESSABLE})
async def get_trace_csv(entry: QueryTrace, traces: ServiceDep) -> Response:
    """Per-step norms (loss, ||h||, ||dL/dh||, ||dL/dc||, Jacobian norm, Pascanu bound, cuts, overflow)."""
    text = await traces.run(norms_csv, entry.payload)
    headers = {"Content-Disposition": f'attachment; filename="{_filename(entry)}.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/status")
def get_status(traces: ServiceDep, settings: SettingsDep) -> dict[str, Any]:
    """Device, pool and cache counters (computations, cache_hits, joined, dropped, stream events)."""
    return {"device": traces.device, "workers": settings.workers, "cache_size": settings.cache_size,
            "transformer": transformer_module() is not None, **traces.snapshot()}
