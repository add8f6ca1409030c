"""A lesson figure with source = "shapes" (lesson 10): one knob set for the three POST /api/shapes/*
bodies (the sentence the tagger and classifier read, the ragged batch the padding demo runs) and the
shape the unrolled graph draws. The limits stay in app.shapes (models.shapes.limits)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from app.shapes import PaddingKnobs, SentenceKnobs
from models import limits

Shape = Literal["many-to-one", "one-to-many", "many-to-many", "encoder-decoder", "bidirectional", "deep"]
SHAPES = get_args(Shape)


class ShapesFigureKnobs(SentenceKnobs, PaddingKnobs):
    shape: Shape = Field("many-to-one", description="the unrolled graph the shape-graph panel draws")
    layers: int = Field(2, ge=1, le=limits.LAYERS["gru"],
                        description="the deep graph's stacked layers (as many as the recurrent engine stacks)")
    mask: bool = Field(False, description="the padding panel: the padded run with its mask (true) or without "
                       "(false) beside the packed one; the API runs all three either way")
