"""What a lesson spec may name, read from the one place each list lives:

- panel ids: the file names of static/js/panels/*.js (a panel is one module; its file name is its id);
- answer functions: the snake_case functions exported by static/js/core/answers.js
  (`export function grad_ratio(trace, args, traceB)`; helpers there are camelCase: judgeGuess, binsOf);
- knobs: the knob table (app.knobs), or TraceKnobs' JSON schema while that table is not there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PANELS_DIR = ROOT / "static" / "js" / "panels"
ANSWERS_JS = ROOT / "static" / "js" / "core" / "answers.js"
VIEW_KEYS = {"phase": ("forward", "backward"), "step": None, "bstep": None, "layer": None, "head": None,
             "loss": None, "unit": None, "speed": None}

_EXPORTED_ANSWER = re.compile(r"^export\s+function\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\s*\(", re.M)


_PANEL_FIGURE = re.compile(r"^export\s+function\s+figure\s*\(", re.M)


def panel_ids(directory: Path = PANELS_DIR) -> frozenset[str]:
    """Every panel id: one module per panel, named after it (static/js/panels/grad-flow.js -> grad-flow).
    A module there that exports no `figure` (shared helpers such as common.js) is not a panel."""
    if not directory.is_dir():
        return frozenset()
    return frozenset(p.stem for p in directory.glob("*.js") if _PANEL_FIGURE.search(p.read_text(encoding="utf-8")))


def answer_names(path: Path = ANSWERS_JS) -> frozenset[str]:
    """The answer functions a question may name: answers.js's exported snake_case functions."""
    if not path.exists():
        return frozenset()
    return frozenset(_EXPORTED_ANSWER.findall(path.read_text(encoding="utf-8")))


def knob_names() -> tuple[str, ...]:
    try:
        from app.knobs import knob_names as names

        return tuple(names())
    except ImportError:  # before the knob table: the request model's fields
        from app.schemas import TraceKnobs

        return tuple(TraceKnobs.model_fields)


def knob_applies(name: str, arch: str) -> bool:
    """Whether knob `name` means something for `arch` (elsewhere the API ignores it)."""
    if name not in knob_names():
        return False
    try:
        from app.knobs import applies

        return applies(name, arch)
    except ImportError:
        from app.schemas import APPLIES_TO

        return arch in APPLIES_TO.get(name, (arch,))


def request_model(source: str):
    """The request model of a figure source other than the trace: POST /api/sample's body for "sample",
    GET /api/ar's query for "ar" (app.lm), or None while that module is not there."""
    try:
        from app import lm
    except ImportError:
        return None
    if source == "seq2seq":  # POST /api/seq2seq/trace's body (app.seq2seq)
        from app.seq2seq import Seq2SeqBody

        return Seq2SeqBody
    if source == "shapes":  # the POST /api/shapes/* bodies in one, and the graph's shape (lesson 10)
        from app.lessons.shapes_knobs import ShapesFigureKnobs

        return ShapesFigureKnobs
    return {"sample": getattr(lm, "SampleBody", None), "ar": getattr(lm, "ARQuery", None)}.get(source)


def _request_specs(source: str) -> dict[str, dict[str, Any]]:
    """Widgets for a sample / ar figure's knobs, from the request model's schema (the checkpoint: the
    trained character models)."""
    model = request_model(source)
    if model is None:
        return {}
    schema = model.model_json_schema()["properties"]
    specs = {}
    for name, field in model.model_fields.items():
        prop = schema[name]
        main = next((o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"), prop)
        kind = main.get("type")
        spec: dict[str, Any] = {"type": kind, "default": field.default,
                                "widget": {"string": "text", "boolean": "checkbox"}.get(kind, "number"),
                                "nullable": any(o.get("type") == "null" for o in prop.get("anyOf", []))}
        for key, out in (("minimum", "min"), ("maximum", "max"), ("maxLength", "max_length"),
                         ("minLength", "min_length")):
            if key in main:
                spec[out] = main[key]
        if kind == "number":
            spec["step"] = 0.05
        if "enum" in main:  # a Literal (the shapes figure's shape)
            spec |= {"widget": "select", "choices": list(main["enum"])}
        elif name == "checkpoint" and source == "seq2seq":
            from app.seq2seq import seq2seq_checkpoints

            spec |= {"widget": "select", "choices": list(seq2seq_checkpoints())}
        elif name == "checkpoint":
            from app.lm import lm_checkpoints

            spec |= {"widget": "select", "choices": list(lm_checkpoints())}
        specs[name] = spec
    return specs


def control_specs(arch: str) -> dict[str, dict[str, Any]]:
    """The widgets a learner gets for the knobs of `arch` (limits for that architecture on this server):
    name -> {widget, type, default, nullable, min, max, step, choices ...}."""
    if arch in ("sample", "ar", "seq2seq", "shapes"):
        return _request_specs(arch)
    from app.settings import get_settings

    settings = get_settings()
    try:
        from app.knobs import knob_specs
    except ImportError:
        return _specs_from_schema(arch)
    try:
        from app.engine import checkpoints_for

        checkpoints = checkpoints_for(arch)
    except ImportError:
        checkpoints = {}
    try:
        return knob_specs(arch, settings, checkpoints)
    except TypeError:  # an older signature
        return knob_specs(arch, settings)


def _specs_from_schema(arch: str) -> dict[str, dict[str, Any]]:
    from app.schemas import TraceKnobs

    schema = TraceKnobs.model_json_schema()["properties"]
    specs = {}
    for name, field in TraceKnobs.model_fields.items():
        if name == "arch" or not knob_applies(name, arch):
            continue
        prop = schema[name]
        main = next(o for o in prop.get("anyOf", [prop]) if o.get("type") != "null")
        kind = main.get("type")
        widget = "select" if "enum" in main else {"boolean": "checkbox", "string": "text"}.get(kind, "number")
        spec = {"type": kind, "default": field.default, "widget": widget,
                "nullable": any(o.get("type") == "null" for o in prop.get("anyOf", []))}
        for key, out in (("minimum", "min"), ("exclusiveMinimum", "greater_than"), ("maximum", "max"),
                         ("enum", "choices"), ("maxLength", "max_length"), ("minLength", "min_length")):
            if key in main:
                spec[out] = main[key]
        specs[name] = spec
    return specs
