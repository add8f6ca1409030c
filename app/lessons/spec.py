"""lesson.toml as data: the figures and questions of one lesson (structure only; the prose is in ko.md
and en.md). The models forbid unknown keys, so a misspelt key is an error, not a silent default.

The checks that need more than one field (a knob that validates, a panel that exists, a question that
names a figure) are in app.lessons.loader; these models check each field on its own.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)
SOURCES = ("trace", "sample", "ar", "lab", "seq2seq", "shapes")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SideLabels(Strict):
    """Names of the A and B sides of a compare figure, shown above each and in compare questions."""

    ko: tuple[str, str]
    en: tuple[str, str]


class FigureSpec(Strict):
    id: str = Id
    source: Literal["trace", "sample", "ar", "lab", "seq2seq", "shapes"] = "trace"
    knobs: dict[str, Any] = Field(description="trace knobs (source trace), the sample/ar request's fields, or "
                                  "(source lab) a preset with overrides or a list of runs")
    controls: tuple[str, ...] = Field((), description="knobs the learner may change")
    panels: tuple[str, ...] = Field(min_length=1, description="panel ids, static/js/panels/<id>.js")
    view: dict[str, Any] = Field(default_factory=dict, description="the initial view (phase, step, bstep ...)")
    compare: dict[str, Any] | None = Field(None, description="knob overrides of a B side that steps with A")
    labels: SideLabels | None = Field(None, description="A and B's names (compare figures)")
    shuffle: bool = Field(False, description="a button that shuffles the text knob (seeded)")
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="a number control's slider ends, inside the knob's own limits")

    @field_validator("controls", "panels")
    @classmethod
    def no_repeats(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"listed twice: {repeated}")
        return names


class QuestionText(Strict):
    prompt: str = Field(min_length=1)
    explain: str = Field(min_length=1, description="shown after the reveal, next to the computed value")

    @field_validator("prompt", "explain")
    @classmethod
    def not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("is blank")
        return text.strip()


class QuestionSpec(Strict):
    id: str = Id
    figure: str
    kind: Literal["number", "bins", "compare"]
    answer: str = Field(description="an answer function exported by static/js/core/answers.js")
    args: dict[str, Any] = Field(default_factory=dict)
    scale: Literal["linear", "log"] = "linear"
    range: tuple[float, float] | None = Field(None, description="kind number: the slider's ends")
    tolerance: float | None = Field(None, gt=0, description="kind number: how close counts as right")
    edges: tuple[float, ...] | None = Field(None, description="kind bins: the options are the intervals between")
    tie: float | None = Field(None, gt=0, lt=1, description="kind compare: |B/A - 1| below this is 'about the same'")
    ko: QuestionText
    en: QuestionText

    @model_validator(mode="after")
    def kind_has_its_fields(self) -> QuestionSpec:
        if self.kind == "number":
            if self.range is None:
                raise ValueError("kind 'number' needs range = [low, high] for the slider")
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"range {list(self.range)}: needs finite low < high")
            if self.scale == "log" and lo <= 0:
                raise ValueError(f"range {list(self.range)}: a log slider needs low > 0")
        elif self.range is not None or self.tolerance is not None:
            raise ValueError(f"range and tolerance are for kind 'number', not '{self.kind}'")
        if self.kind == "bins":
            if not self.edges or len(self.edges) < 3:
                raise ValueError("kind 'bins' needs edges with at least 3 values (2 options)")
            if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
                raise ValueError(f"edges {list(self.edges)} must increase")
            if self.scale == "log" and self.edges[0] < 0:
                raise ValueError("log-scale edges must be >= 0")
        elif self.edges is not None:
            raise ValueError(f"edges are for kind 'bins', not '{self.kind}'")
        if self.tie is not None and self.kind != "compare":
            raise ValueError(f"tie is for kind 'compare', not '{self.kind}'")
        return self


class LessonSpec(Strict):
    order: int = Field(ge=1, le=99)
    figures: tuple[FigureSpec, ...] = Field(min_length=1)
    questions: tuple[QuestionSpec, ...] = ()
