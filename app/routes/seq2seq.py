"""The encoder-decoder endpoints: POST/GET /api/seq2seq/trace (one source string, decoder step by decoder
step) and GET /api/seq2seq/accuracy (greedy accuracy against input length, with and without attention)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import ServiceDep
from app.http import revalidated
from app.lab.memory import RUN_PREFIX, MemoryModels
from app.rules import RUN_CHECKPOINT_RULES, states
from app.seq2seq import (
    AccuracyQuery,
    Seq2SeqBody,
    Seq2SeqQuery,
    accuracy_payload,
    trace_csv,
    trace_payload,
)
from app.serialize import dumps

router = APIRouter(prefix="/api/seq2seq", tags=["seq2seq"])
_RULES = states(*RUN_CHECKPOINT_RULES, "knob_seq2seq_source_len", "knob_seq2seq_nonfinite")

_UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {"description": "a knob is out of range or the source has a character outside a-z; `loc` names it"}}


async def _frozen(request: Request, checkpoint: str | None,
                  traces: ServiceDep) -> tuple[str | None, MemoryModels | None]:
    """A training run of the lab (run:<id>) as its weights frozen at the current step (run:<id>@<step>),
    with the lab's memory that holds them; any other checkpoint as it is."""
    if not (checkpoint or "").startswith(RUN_PREFIX):
        return checkpoint, None
    lab = request.app.state.lab
    return await traces.run(lab.freeze, checkpoint, "seq2seq"), lab.memory


async def _payload(request: Request, knobs: Seq2SeqBody | Seq2SeqQuery, traces: ServiceDep) -> dict[str, Any]:
    checkpoint, memory = await _frozen(request, knobs.checkpoint, traces)
    knobs = knobs.model_copy(update={"checkpoint": checkpoint})
    payload: dict[str, Any] = await traces.run(trace_payload, knobs, memory)
    traces.count("seq2seq_traces")
    return payload


async def _trace(request: Request, knobs: Seq2SeqBody | Seq2SeqQuery, traces: ServiceDep) -> bytes:
    return await traces.run(dumps, await _payload(request, knobs, traces))


@router.post("/trace", response_class=Response, openapi_extra=_RULES, responses=_UNPROCESSABLE)
async def post_trace(request: Request, knobs: Seq2SeqBody, traces: ServiceDep) -> Response:
    """Per decoder step i: the input fed, energies e_ij and weights a_ij over the source (null without
    attention), the context c_i (values and norm), the decoder state s_i, the distribution over `vocab`,
    the chosen character, p(target) and the loss; plus the encoder annotations h_j."""
    return Response(await _trace(request, knobs, traces), media_type="application/json")


@router.get("/trace", response_class=Response, openapi_extra=_RULES, responses=_UNPROCESSABLE)
async def get_trace(request: Request, knobs: Annotated[Seq2SeqQuery, Query()], traces: ServiceDep) -> Response:
    """The same as POST /api/seq2seq/trace, as a query (the bench's links and its JSON export)."""
    return revalidated(request, await _trace(request, knobs, traces), "application/json")


@router.get("/trace.csv", response_class=Response, openapi_extra=_RULES,
            responses={200: {"content": {"text/csv": {}}}, **_UNPROCESSABLE})
async def get_trace_csv(request: Request, knobs: Annotated[Seq2SeqQuery, Query()], traces: ServiceDep) -> Response:
    """One row per decoder step: input, target, chosen, p(target), loss, correct, ||c_i||, ||s_i||, the source
    position the output copies (aligned) and the one weighed most (attended, max_weight; empty without
    attention)."""
    payload = await _payload(request, knobs, traces)
    name = f"unrolled-{payload['checkpoint'].replace(':', '-').replace('@', '-')}-{payload['source']}"
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(await traces.run(trace_csv, payload), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/accuracy", response_class=Response, responses=_UNPROCESSABLE,
            openapi_extra=states(*RUN_CHECKPOINT_RULES, "knob_seq2seq_run_task"))
async def get_accuracy(request: Request, knobs: Annotated[AccuracyQuery, Query()], traces: ServiceDep) -> Response:
    """Share of whole strings (`sequence`) and of characters (`character`) right under greedy decoding, per
    input length (`lengths`), for every checkpoint of `task`, on `count` held-out random strings per length;
    with `checkpoint=run:<id>`, the lab run's line too (`run: true`, its frozen name `run:<id>@<step>`)."""
    checkpoint, memory = await _frozen(request, knobs.checkpoint, traces)
    knobs = knobs.model_copy(update={"checkpoint": checkpoint})
    payload: dict[str, Any] = await traces.run(accuracy_payload, knobs, memory)
    return revalidated(request, await traces.run(dumps, payload), "application/json")
