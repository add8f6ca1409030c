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

from app.engine import checkpoints_for
from app.i18n import LANG_COOKIE, load_strings, pick_lang
from app.knobs import form_knobs
from app.schemas import ARCHS, TraceKnobs
from app.settings import Settings, get_settings
from models import limits

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")
router = APIRouter(tags=["pages"])

# View state carried in the URL next to the knobs: the phase, how many forward and backward steps are
# shown, the layer and head on display, and the play speed in steps per second.
VIEW_DEFAULTS: dict[str, Any] = {"phase": "forward", "step": 0, "bstep": 0, "layer": 0, "head": 0, "speed": 4}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


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
    settings = _settings(request)
    arch: str = query["arch"] if query.get("arch") in ARCHS else TraceKnobs.model_fields["arch"].default
    knobs_spec = form_knobs(arch, settings, checkpoints_for(arch), lang)
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
    # what the layer and head choosers list, within the API's limits whatever the URL says (a template
    # looping over layers=1000000 built 95 MB of HTML); the trace's own sizes replace them on the page
    counts = {name: min(max(_int(query.get(name), 1), 1), limit)
              for name, limit in (("layers", limits.LAYERS[arch]), ("heads", limits.HEADS[1]))}
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
        "counts": counts,
        "config": config,
        "use_cdn": settings.use_cdn,
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
