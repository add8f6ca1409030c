"""The training lab's API: start runs, follow them as Server-Sent Events, pause, resume, stop, and take
the current weights (app.lab.runs does the work; models.training the training).

Events of a run, ids from 0: `queued` (position in line), `started`, `metrics` (step, loss, held-out
loss, accuracy, gradient norms, clipped share), `snapshot` (gradient against distance), `paused`,
`resumed`, and last one of `done`, `diverged`, `stopped`. Reconnecting with Last-Event-ID resumes
after that event; once the last event was seen, 204 tells EventSource to stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.sse import format_sse_event

from app.deps import SettingsDep
from app.errors import request_lang
from app.fair import CLIENT
from app.i18n import load_strings
from app.lab.checkpoint import checkpoint_bytes
from app.lab.presets import all_presets
from app.lab.runs import FINAL, Run, RunManager
from app.lab.schemas import LabKnobs, canonical, train_config
from app.lab.upload import GATES, parse_upload, summary
from app.routes.stream import TraceEventStream, sse_response
from app.rules import RULES, states
from app.serialize import dumps
from models import limits
from models.training.tasks import TASKS

router = APIRouter(prefix="/api/runs", tags=["lab"], responses={404: {"description": "no such run on this server"}})
KEEP_ALIVE_S = 15.0  # a comment line this often while a paused run says nothing (proxies close idle streams)


def manager(request: Request) -> RunManager:
    return request.app.state.lab


def _run(request: Request, run_id: str) -> Run:
    run = manager(request).get(run_id)
    if run is None:
        sentence = load_strings(request_lang(request))["err_lab_unknown_run"]
        raise HTTPException(404, sentence.format(id=run_id[:40]))
    return run


@router.post("", status_code=201, openapi_extra=states(
    "knob_layers_range", "knob_heads_divide", "knob_clip_threshold_required", "knob_lab_seq_len", "knob_lab_cost",
    "knob_lab_applies_to", "knob_lab_transformer_tokens", "knob_lab_seq2seq_task"),
    responses={422: {"description": "a bad knob; `loc` names it"},
               429: {"description": "this client has as many live runs as it may"},
               503: {"description": "the server holds as many runs as it may"}})
async def start_run(knobs: LabKnobs, request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Start a training run; it trains on the server while pages follow its events."""
    config = train_config(knobs, settings.lab_max_gmacs)
    run = manager(request).start(canonical(knobs), config, CLIENT.get())
    return {"id": run.id, "events": f"/api/runs/{run.id}/events", "checkpoint": f"/api/runs/{run.id}/checkpoint"}


@router.get("/{run_id}")
async def run_status(run_id: str, request: Request) -> dict[str, Any]:
    return _run(request, run_id).summary()


def _own_run(request: Request, run_id: str) -> Run:
    """A run for pausing, resuming or stopping: only from the address that started it (403 otherwise), so a
    student who follows the teacher's runs in a classroom room (and knows their ids) cannot stop them."""
    run = _run(request, run_id)
    if run.client != CLIENT.get():
        raise HTTPException(403, load_strings(request_lang(request))["err_lab_not_yours"])
    return run


_OWNER_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "the run was started from another address"},
                                                404: {"description": "no such run"}}


@router.post("/{run_id}/pause", responses=_OWNER_ONLY)
async def pause_run(run_id: str, request: Request) -> dict[str, Any]:
    run = _own_run(request, run_id)
    await anyio.to_thread.run_sync(manager(request).pause, run)  # waits for the step in progress
    return run.summary()


@router.post("/{run_id}/resume", responses=_OWNER_ONLY)
async def resume_run(run_id: str, request: Request) -> dict[str, Any]:
    run = _own_run(request, run_id)
    manager(request).resume(run)
    return run.summary()


@router.post("/{run_id}/stop", responses=_OWNER_ONLY)
async def stop_run(run_id: str, request: Request) -> dict[str, Any]:
    run = _own_run(request, run_id)
    await anyio.to_thread.run_sync(manager(request).stop, run)  # waits for the step in progress
    return run.summary()


@router.get("/{run_id}/checkpoint", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "safetensors"},
                       409: {"description": "the run has not taken its first step yet"}})
async def run_checkpoint(run_id: str, request: Request) -> Response:
    """The run's current weights (safetensors, torch.nn's names) with its task and vocabulary as metadata."""
    run = _run(request, run_id)
    got = manager(request).weights(run)
    if got is None:
        raise HTTPException(409, load_strings(request_lang(request))["err_lab_not_started"])
    step, weights = got
    model_config = run.config.model.engine_config(run.config.task_spec.input_size, run.config.task_spec.output_size)
    body = checkpoint_bytes(weights, run.config, run.knobs, step, model_config)
    name = f"unrolled-{run.knobs['task']}-{run.knobs['arch']}-step{step}.safetensors"
    return Response(body, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


_SSE = sse_response("queued, started, metrics, snapshot, paused, resumed; last done, diverged or stopped")


@router.get("/{run_id}/events", response_class=Response, responses={200: _SSE, 204: {"description": "all sent"}})
async def run_events(run_id: str, request: Request,
                     last_event_id: Annotated[int | None, Header(ge=-1)] = None) -> Response:
    run = _run(request, run_id)
    start = -1 if last_event_id is None else last_event_id
    if not run.live and start >= len(run.events) - 1:
        raise HTTPException(204)
    lab = manager(request)
    lab.watch(run, +1)
    return TraceEventStream(_events(run, start, request), lambda: lab.watch(run, -1))


async def _events(run: Run, last: int, request: Request) -> AsyncIterator[bytes]:
    shutdown = request.app.state.shutdown
    while True:
        events = run.events
        while last + 1 < len(events):
            last += 1
            kind, data = events[last]
            yield format_sse_event(data_str=data.decode(), event=kind, id=str(last))
            if kind in FINAL:
                return
        before = len(run.events)
        waiting = asyncio.ensure_future(run.wait_after(last, KEEP_ALIVE_S))
        closing = asyncio.ensure_future(shutdown.closing.wait())
        await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        closing.cancel()
        if shutdown.closing.is_set():  # no id: the run ends with the server (runs live in its memory)
            yield format_sse_event(data_str=dumps({"step": run.step, "reason": "shutdown"}).decode(), event="stopped")
            return
        if len(run.events) == before:
            yield b": keep-alive\n\n"


# ---- the page ----

page_router = APIRouter(tags=["pages"])


def lab_config() -> dict[str, Any]:
    """What the lab page needs to build its form and presets: every limit from where it lives."""
    schema = LabKnobs.model_json_schema()
    tasks = {name: {"seq_len": list(task.length), "default_seq_len": task.default_length,
                    "regression": task.regression, "has_accuracy": task.has_accuracy}
             for name, task in TASKS.items()}
    upload = {"api": models_router.prefix, "bytes": limits.UPLOAD_BYTES, "archs": list(GATES)}
    return {"knobs": schema["properties"], "tasks": tasks, "presets": all_presets(), "api": router.prefix,
            "upload": upload}


@page_router.get("/lab", response_class=HTMLResponse)
async def lab_page(request: Request, accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    from app.routes.lessons import _lang, _page

    lang = _lang(request, accept_language)
    return _page(request, "lab.html", lang, {"config": lab_config()})


# ---- bring your own model ----

models_router = APIRouter(prefix="/api/models", tags=["lab"])


@models_router.post("", status_code=201, max_body_size=limits.UPLOAD_BYTES,
                    openapi_extra={"requestBody": {"required": True, "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                        **states(*(code for code in RULES if code.startswith("knob_upload_")))},
                    responses={413: {"description": "over 20 MB"},
                               422: {"description": "not safetensors, or shapes that do not fit the architecture"},
                               507: {"description": "the server holds as many uploads as it may"}})
async def upload_model(
    request: Request,
    arch: Annotated[Literal["rnn", "lstm", "gru"], Query(description="the torch.nn module the weights are from")],
    activation: Annotated[Literal["tanh", "relu"], Query(description="torch.nn.RNN's nonlinearity")] = "tanh",
    vocab: Annotated[str | None, Query(max_length=20000, description="JSON list of the characters ids stand "
                                       "for, if the file's metadata has no `vocab`")] = None,
) -> dict[str, Any]:
    """Upload a torch.nn.RNN/LSTM/GRU state_dict with `readout.weight`/`readout.bias` as safetensors (the
    raw file as the body); the answer names it for the bench (`checkpoint=upload:<hash>`)."""
    raw = await request.body()
    name, held = await anyio.to_thread.run_sync(parse_upload, raw, arch, activation, vocab)
    memory = request.app.state.memory
    if not memory.put_upload(name, held):
        raise HTTPException(507, load_strings(request_lang(request))["err_upload_full"])
    text = "".join(held.vocab.chars[: min(24, len(held.vocab))])
    bench = "/bench?" + urlencode({"arch": arch, "checkpoint": name, "text": text})
    return {**summary(name, held), "bench_url": bench}
