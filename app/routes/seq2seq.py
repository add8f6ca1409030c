"""The encoder-decoder endpoints: POST/GET /api/seq2seq/trace (one source string, decoder step by decoder
step) and GET /api/seq2seq/accuracy (greedy accuracy against input length, with and without attention)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import ServiceDep
from app.http import revalidated
from app.seq2seq import AccuracyQuery, Seq2SeqBody, Seq2SeqQuery, accuracy_payload, trace_payload
from app.serialize import dumps

router = APIRouter(prefix="/api/seq2seq", tags=["seq2seq"])

_UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {"description": "a knob is out of range or the source has a character outside a-z; `loc` names it"}}


async def _trace(knobs: Seq2SeqBody | Seq2SeqQuery, traces: ServiceDep) -> bytes:
    payload: dict[str, Any] = await traces.run(trace_payload, knobs)
    traces.count("seq2seq_traces")
    return await traces.run(dumps, payload)


@router.post("/trace", response_class=Response, responses=_UNPROCESSABLE)
async def post_trace(knobs: Seq2SeqBody, traces: ServiceDep) -> Response:
    """Per decoder step i: the input fed, energies e_ij and weights a_ij over the source (null without
    attention), the context c_i (values and norm), the decoder state s_i, the distribution over `vocab`,
    the chosen character, p(target) and the loss; plus the encoder annotations h_j."""
    return Response(await _trace(knobs, traces), media_type="application/json")


@router.get("/trace", response_class=Response, responses=_UNPROCESSABLE)
async def get_trace(request: Request, knobs: Annotated[Seq2SeqQuery, Query()], traces: ServiceDep) -> Response:
    """The same as POST /api/seq2seq/trace, as a query (the bench's links)."""
    return revalidated(request, await _trace(knobs, traces), "application/json")


@router.get("/accuracy", response_class=Response, responses=_UNPROCESSABLE)
async def get_accuracy(request: Request, knobs: Annotated[AccuracyQuery, Query()], traces: ServiceDep) -> Response:
    """Share of whole strings (`sequence`) and of characters (`character`) right under greedy decoding, per
    input length (`lengths`), for every checkpoint of `task`, on `count` held-out random strings per length."""
    payload: dict[str, Any] = await traces.run(accuracy_payload, knobs)
    return revalidated(request, await traces.run(dumps, payload), "application/json")
