"""The shapes endpoints (lesson 10): POST /api/shapes/tag (the name tagger, uni vs bidirectional, per
character), POST /api/shapes/classify (the many-to-one classifier, step by step), POST /api/shapes/padding
(one ragged batch padded without a mask, with a mask, and packed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from app.deps import ServiceDep
from app.rules import states
from app.serialize import dumps
from app.shapes import PaddingKnobs, SentenceKnobs, classify_payload, padding_payload, tag_payload

router = APIRouter(prefix="/api/shapes", tags=["shapes"])

_UNPROCESSABLE: dict[int | str, dict[str, Any]] = {422: {"description": "a field is out of range; `loc` names it"}}


async def _answer(fn: Any, knobs: Any, traces: ServiceDep) -> Response:
    payload = await traces.run(fn, knobs)
    return Response(await traces.run(dumps, payload), media_type="application/json")


@router.post("/tag", response_class=Response, responses=_UNPROCESSABLE)
async def post_tag(knobs: SentenceKnobs, traces: ServiceDep) -> Response:
    """Per character: O/B/I probabilities of the unidirectional and the bidirectional tagger, and the gain."""
    return await _answer(tag_payload, knobs, traces)


@router.post("/classify", response_class=Response, responses=_UNPROCESSABLE)
async def post_classify(knobs: SentenceKnobs, traces: ServiceDep) -> Response:
    """Per step: the classifier's state and p(names a person) if the sentence ended there; the prediction."""
    return await _answer(classify_payload, knobs, traces)


@router.post("/padding", response_class=Response, openapi_extra=states(
    "shapes_labels_count", "shapes_lengths_count", "shapes_lengths_value"), responses=_UNPROCESSABLE)
async def post_padding(knobs: PaddingKnobs, traces: ServiceDep) -> Response:
    """Per sentence and way (no_mask, mask, packed): last hidden state, probabilities, loss, distance to packed."""
    return await _answer(padding_payload, knobs, traces)
