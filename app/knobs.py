"""The one knob table: every knob's type, default, limits, widget and where it applies, read from the
request model (app.schemas.TraceKnobs, whose limits come from models.limits).

`GET /api/architectures`, the bench form and the lesson validator all read `knob_specs`; nothing else
restates a knob's limit. Server settings can only tighten the caps (text length, hidden size).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.schemas import TraceKnobs
from app.settings import Settings

# JSON-schema keys -> the table's names
_LIMIT_KEYS = (("minimum", "min"), ("exclusiveMinimum", "greater_than"), ("maximum", "max"),
               ("minLength", "min_length"), ("maxLength", "max_length"), ("enum", "choices"))


@lru_cache
def _table() -> dict[str, dict[str, Any]]:
    """name -> the knob's spec for no architecture in particular (the widest limits)."""
    schema = TraceKnobs.model_json_schema()["properties"]
    table = {}
    for name, field in TraceKnobs.model_fields.items():
        prop = schema[name]
        options = prop.get("anyOf", [prop])
        main = next(o for o in options if o.get("type") != "null")
        spec: dict[str, Any] = {
            "type": main.get("type"),
            "nullable": any(o.get("type") == "null" for o in options),
            "default": field.default,
            "description": field.description,
            "widget": prop["widget"],
            "archs": list(prop["archs"]),
        }
        for key, out in _LIMIT_KEYS:
            if key in main:
                spec[out] = main[key]
        if "const" in main:
            spec["choices"] = [main["const"]]
        if "step" in prop:
            spec["step"] = prop["step"]
        if "max_by_arch" in prop:
            spec["max_by_arch"] = prop["max_by_arch"]
        table[name] = spec
    return table


def knob_names() -> tuple[str, ...]:
    return tuple(_table())


def applies(name: str, arch: str) -> bool:
    return arch in _table()[name]["archs"]


def knob_specs(arch: str, settings: Settings, checkpoints: dict[str, dict[str, str]] | None = None
               ) -> dict[str, dict[str, Any]]:
    """Every knob that applies to `arch`, with its limits for that architecture on this server.
    checkpoints: name -> {"ko": ..., "en": ...} descriptions of the checkpoints of this architecture."""
    specs = {}
    for name, base in _table().items():
        if name == "arch" or arch not in base["archs"]:
            continue
        spec = {k: v for k, v in base.items() if k not in ("archs", "max_by_arch")}
        if "max_by_arch" in base:
            spec["max"] = base["max_by_arch"][arch]
        specs[name] = spec
    specs["text"]["max_length"] = settings.max_text_length
    if "hidden_size" in specs:
        specs["hidden_size"]["max"] = settings.max_hidden_size
    checkpoints = checkpoints or {}
    specs["checkpoint"]["choices"] = [None, *checkpoints]
    specs["checkpoint"]["descriptions"] = checkpoints
    if not checkpoints:
        specs.pop("checkpoint")  # nothing to choose for this architecture
    return specs


def describe(description: Any, lang: str) -> str:
    """A checkpoint's description in `lang` (descriptions are {"ko": ..., "en": ...}; a plain string is kept)."""
    return description.get(lang) or description.get("en", "") if isinstance(description, dict) else str(description)


def form_knobs(arch: str, settings: Settings, checkpoints: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The bench form's knobs in table order, with the limits for `arch` (a knob that does not apply is
    drawn hidden, so switching the architecture keeps its value). checkpoints: those of `arch`."""
    specs = knob_specs(arch, settings, checkpoints)
    out = []
    for name, base in _table().items():
        spec = specs.get(name, {k: v for k, v in base.items() if k not in ("archs", "max_by_arch")})
        if name == "checkpoint" and name not in specs:
            continue  # no checkpoint for this architecture
        knob = {"name": name, "widget": base["widget"], "archs": tuple(base["archs"]), "default": base["default"]}
        for key, attr in (("min", "min"), ("max", "max"), ("max_length", "maxlength"), ("step", "step")):
            if key in spec:
                knob[attr] = spec[key]
        if "choices" in spec:
            knob["choices"] = tuple("" if c is None else c for c in spec["choices"])
            if base["nullable"] and "" not in knob["choices"]:
                knob["choices"] = ("", *knob["choices"])
        if name == "checkpoint":
            knob["descriptions"] = {c: describe(d, lang) for c, d in checkpoints.items()}
        out.append(knob)
    return out
