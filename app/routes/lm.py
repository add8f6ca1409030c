"""Trained character models at work: text they write (POST /api/sample, GET /api/sample/stream) and
what a fixed window of counts predicts next to them (GET /api/ar).

The sample stream sends `meta` (id 0), one `step` per written character (ids 1..length) and `done`
(id length + 1). The model and the prompt are read before the first byte, so a bad knob is still a
422; after that each character is one step in the pool, and the stream stops computing as soon as the
client goes away. Writing is a pure function of the knobs, so a reconnect with Last-Event-ID writes
the same text again and resumes after that event; after `done` it gets 204.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.sse import format_sse_event

from app.compute import TraceService
from app.deps import ServiceDep, SettingsDep
from app.errors import KnobError
from app.http import revalidated
from app.lm import ARQuery, SampleBody, SampleJob, SampleKnobs, SampleQuery, ar_payload, new_sample_job, step_event
from app.lm import write_all as write_sample
from app.routes.stream import TraceEventStream, sse_response
from app.rules import states
from app.serialize import dumps
from app.settings import Settings
from app.shutdown import RECONNECT_AFTER_MS, Shutdown

router = APIRouter(prefix="/api", tags=["lm"])

_UNPROCESSABLE = {422: {"description": "a knob is out of range; `loc` names it"}}


def _within_server_limit(field: str, text: str, settings: Settings) -> None:
    """Settings may lower the text cap; the prompt and the AR text obey it as the trace text does."""
    if len(text) > settings.max_text_length:
        raise KnobError(field, "text_server_max", limit=settings.max_text_length)


async def _job(knobs: SampleKnobs, settings: Settings, traces: TraceService) -> SampleJob:
    """The model loaded and the prompt read, in the pool (a top_k above the vocabulary is a 422 here)."""
    _within_server_limit("prompt", knobs.prompt, settings)
    return await traces.run(new_sample_job, knobs)


async def job_from_body(knobs: SampleBody, settings: SettingsDep, traces: ServiceDep) -> SampleJob:
    return await _job(knobs, settings, traces)


async def job_from_query(knobs: Annotated[SampleQuery, Query()], settings: SettingsDep, traces: ServiceDep
                         ) -> SampleJob:
    return await _job(knobs, settings, traces)


BodyJob = Annotated[SampleJob, Depends(job_from_body)]
QueryJob = Annotated[SampleJob, Depends(job_from_query)]


def resume_after(knobs: Annotated[SampleQuery, Query()],
                 last_event_id: Annotated[int | None, Header(ge=-1)] = None) -> int:
    """The id a reconnecting EventSource saw last (-1: a fresh stream); 204 once it has seen `done`."""
    if last_event_id is not None and last_event_id >= knobs.length + 1:
        raise HTTPException(204)
    return -1 if last_event_id is None else last_event_id


_SAMPLE_RULES = states("knob_top_k_vocab", "knob_text_server_max")


@router.post("/sample", response_class=Response, openapi_extra=_SAMPLE_RULES, responses=_UNPROCESSABLE)
async def post_sample(job: BodyJob, traces: ServiceDep) -> Response:
    """`length` characters written by a trained character model after `prompt`: `text`, and per
    character (`steps`) the distribution over `vocab` it was drawn from (after temperature and top-k)."""
    body = await traces.run(lambda: dumps(write_sample(job)))
    traces.count("samples")
    return Response(body, media_type="application/json")


_SAMPLE_SSE = sse_response("meta, a step per written character, done (or a final `reconnect` on shutdown)")


@router.get("/sample/stream", response_class=Response, openapi_extra=_SAMPLE_RULES,
            responses={200: _SAMPLE_SSE, 204: {"description": "everything was sent already"}, **_UNPROCESSABLE})
async def stream_sample(
    request: Request,
    start: Annotated[int, Depends(resume_after)],
    job: QueryJob,
    traces: ServiceDep,
    interval_ms: Annotated[int, Query(ge=0, le=2000, description="pause between step events (play speed)")] = 0,
) -> Response:
    """The same writing as POST /api/sample, one `step` event per character as it is drawn. Like the
    trace stream (app.routes.stream): plain SSE bytes, so a client that leaves ends it quietly and is
    counted at once, and a server that is stopping ends it with a `reconnect` event."""
    progress = {"sent": 0}
    total = job.knobs.length + 2  # meta, the steps, done
    traces.count("sample_streams")

    def closed() -> None:
        if start + 1 + progress["sent"] < total:
            traces.count("sample_streams_stopped_early")

    events = _sample_bytes(job, start, interval_ms, traces, request.app.state.shutdown, progress)
    return TraceEventStream(events, closed)


async def _sample_bytes(job: SampleJob, start: int, interval_ms: int, traces: TraceService, shutdown: Shutdown,
                        progress: dict[str, int]) -> AsyncIterator[bytes]:
    def event(name: str, data: Any, event_id: int) -> bytes:
        progress["sent"] += 1
        return format_sse_event(data_str=dumps(data).decode(), event=name, id=str(event_id))

    if start < 0:
        yield event("meta", job.meta(), 0)
    chars = []
    for t in range(job.knobs.length):
        step = await traces.run(job.sampler.step)  # a resumed stream redraws the steps it skips
        traces.count("sample_steps")
        chars.append(step.char)
        if t + 1 > start:
            if interval_ms:
                with anyio.move_on_after(interval_ms / 1000):
                    await shutdown.closing.wait()
            if shutdown.closing.is_set():  # no id: the page resumes after the last event it really got
                note = {"reason": "shutdown", "retry_ms": RECONNECT_AFTER_MS, "last_event_id": t}
                yield format_sse_event(data_str=dumps(note).decode(), event="reconnect", retry=RECONNECT_AFTER_MS)
                return
            yield event("step", step_event(step), t + 1)
            await anyio.sleep(0)  # let the disconnect listener run between fast sends
    yield event("done", {"steps": job.knobs.length, "text": "".join(chars)}, job.knobs.length + 1)


@router.get("/ar", response_class=Response, openapi_extra=states("knob_text_server_max"), responses=_UNPROCESSABLE)
async def get_ar(request: Request, knobs: Annotated[ARQuery, Query()], settings: SettingsDep,
                 traces: ServiceDep) -> Response:
    """AR(tau) next to a trained model: per step t the distribution of character t+1 from counts of the
    last tau characters in the training corpus (`context`, its `count`, the `tau_used` after backing off
    to the longest seen suffix, `probs`, `p_target`) and the model's own (`rnn.probs`, `rnn.p_target`)."""
    _within_server_limit("text", knobs.text, settings)
    payload: dict[str, Any] = await traces.run(ar_payload, knobs)
    return revalidated(request, await traces.run(dumps, payload), "application/json")
