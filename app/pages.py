"""The bench page.

GET /bench renders the whole page; a request from htmx (the knob form) gets only the bench partial,
so the form swaps one region and keeps the layout. Every knob and the view state (phase, step, layer,
head, language) live in the URL query, so the address bar is always a permalink.

The page validates nothing itself: knobs go to the API as typed, and the API's 422 message is shown
on the page. Limits and defaults for the form come from the API's request schema when it is there.

htmx and plotly.js load from a CDN first; the page falls back to the local copies that create_app mounts
under /vendor (htmx and plotly.js's cartesian bundle, both from node_modules/ via npm ci).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.i18n import LANG_COOKIE, load_strings, pick_lang

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")
router = APIRouter(tags=["pages"])

ARCHS = ("rnn", "lstm", "gru", "transformer")
RECURRENT = ("rnn", "lstm", "gru")

# The form: which knob, which widget, which architectures it applies to. Limits, defaults and
# applicability are filled from the API's schema (see form_knobs); the values here only let the form
# draw itself if that schema is missing.
KNOBS: tuple[dict[str, Any], ...] = (
    {"name": "arch", "widget": "select", "choices": ARCHS, "default": "lstm"},
    {"name": "text", "widget": "text", "default": "hello world, hello unrolled"},
    {"name": "hidden_size", "widget": "number", "default": 64, "archs": RECURRENT},
    {"name": "layers", "widget": "number", "default": 1},
    {"name": "seed", "widget": "number", "default": 0},
    {"name": "activation", "widget": "select", "choices": ("tanh", "relu", "sigmoid", "linear"),
     "default": "tanh", "archs": ("rnn",)},
    {"name": "spectral_norm", "widget": "number", "step": "0.05", "default": None,
     "archs": RECURRENT},
    {"name": "truncation", "widget": "number", "default": None, "archs": RECURRENT},
    {"name": "identity_init", "widget": "checkbox", "default": False, "archs": ("rnn",)},
    {"name": "forget_bias", "widget": "number", "step": "0.5", "default": None, "archs": ("lstm",)},
    {"name": "clip_mode", "widget": "select", "choices": ("", "norm", "value"), "default": None},
    {"name": "clip_threshold", "widget": "number", "step": "0.1", "default": None},
    {"name": "d_model", "widget": "number", "default": 64, "archs": ("transformer",)},
    {"name": "heads", "widget": "number", "default": 4, "archs": ("transformer",)},
    {"name": "d_ff", "widget": "number", "default": 128, "archs": ("transformer",)},
    {"name": "positional", "widget": "select", "choices": ("sinusoidal", "learned"), "default": "sinusoidal",
     "archs": ("transformer",)},
    {"name": "checkpoint", "widget": "select", "choices": ("",), "default": None, "archs": ("transformer",)},
)
# View state carried in the URL next to the knobs: the phase, how many forward and backward steps are
# shown, the layer and head on display, and the play speed in steps per second.
VIEW_DEFAULTS: dict[str, Any] = {"phase": "forward", "step": 0, "bstep": 0, "layer": 0, "head": 0, "speed": 4}


def _api_knobs() -> tuple[dict[str, Any], dict[str, tuple[str, ...]], dict[str, str]]:
    """The API's request schema (defaults, limits), which knob applies to which model, and checkpoints."""
    try:
        from app.schemas import APPLIES_TO, TraceKnobs
    except ImportError:  # the page still draws with the form's own defaults
        return {}, {}, []
    try:
        from app.engine import transformer_checkpoints

        checkpoints = dict(transformer_checkpoints())  # name -> one-line description
    except ImportError:
        checkpoints = {}
    return TraceKnobs.model_json_schema().get("properties", {}), dict(APPLIES_TO), checkpoints


def _limits(prop: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in [prop, *prop.get("anyOf", [])]:
        for key, attr in (("minimum", "min"), ("maximum", "max"), ("maxLength", "maxlength")):
            if key in p:
                out[attr] = p[key]
    return out


def form_knobs() -> list[dict[str, Any]]:
    """The form's knobs with the API's defaults, limits and applicability filled in."""
    schema, applies_to, checkpoints = _api_knobs()
    knobs = []
    for k in KNOBS:
        if schema and k["name"] not in schema:
            continue  # the API does not take it (yet)
        if k["name"] == "checkpoint":
            if not checkpoints:
                continue
            k = {**k, "choices": ("", *checkpoints), "descriptions": checkpoints}
        prop = schema.get(k["name"], {})
        knob = {**k, **_limits(prop)}
        if "default" in prop:
            knob["default"] = prop["default"]
        if k["name"] in applies_to:
            knob["archs"] = tuple(applies_to[k["name"]])
        knobs.append(knob)
    return knobs


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _use_cdn(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    if settings is None:
        try:
            from app.settings import get_settings

            settings = get_settings()
        except Exception:  # settings are the API's; the page works without them
            return True
    return bool(getattr(settings, "use_cdn", True))


@lru_cache
def plotly_version() -> str:
    head = _plotly_path().read_text(encoding="utf-8", errors="ignore")[:400]
    match = re.search(r"plotly\.js .*?v(\d+\.\d+\.\d+)", head)
    return match.group(1) if match else "latest"


def _plotly_path() -> Path:
    return ROOT / "node_modules" / "plotly.js-cartesian-dist-min" / "plotly-cartesian.min.js"


@lru_cache
def htmx_version() -> str:
    package = ROOT / "node_modules" / "htmx.org" / "package.json"
    if package.exists():
        return json.loads(package.read_text())["version"]
    return json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]


def bench_context(request: Request, accept_language: str | None) -> dict[str, Any]:
    query = dict(request.query_params)
    lang = pick_lang(query.get("lang"), request.cookies.get(LANG_COOKIE), accept_language)
    knobs_spec = form_knobs()
    knobs: dict[str, Any] = {}
    for k in knobs_spec:
        default = k.get("default")
        if k["widget"] == "checkbox":
            value = query.get(k["name"], "true" if default else "")
            knobs[k["name"]] = "true" if value.lower() in ("true", "on", "1") else ""
        else:
            knobs[k["name"]] = query.get(k["name"], "" if default is None else str(default))
    view = {
        "phase": "backward" if query.get("phase") == "backward" else "forward",
        **{k: max(_int(query.get(k), VIEW_DEFAULTS[k]), 0) for k in ("step", "bstep", "layer", "head")},
        "speed": min(max(_int(query.get("speed"), VIEW_DEFAULTS["speed"]), 1), 20),
    }
    t = load_strings(lang)
    config = {
        "knobs": knobs,
        "view": view,
        "lang": lang,
        "i18n": t,
        "api": {"stream": "/api/trace/stream", "summary": "/api/trace/summary", "json": "/api/trace.json",
                "csv": "/api/trace.csv"},
    }
    return {
        "lang": lang,
        "other_lang": "en" if lang == "ko" else "ko",
        "t": t,
        "knobs": knobs,
        "knobs_spec": knobs_spec,
        "view": view,
        "config": config,
        "use_cdn": _use_cdn(request),
        "plotly_version": plotly_version(),
        "htmx_version": htmx_version(),
    }


HxRequest = Annotated[str | None, Header(alias="HX-Request")]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language")]


@router.get("/bench", response_class=HTMLResponse)
def get_bench_page(
    request: Request, hx_request: HxRequest = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The bench for the knobs in the query; only the #bench partial when htmx asks."""
    context = bench_context(request, accept_language)
    template = "partials/bench_main.html" if hx_request == "true" else "bench.html"
    response = templates.TemplateResponse(request, template, context)
    response.headers["Vary"] = "HX-Request, Accept-Language"  # one URL, two bodies: caches must tell them apart
    return response
