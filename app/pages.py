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

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.engine import checkpoints_for
from app.http import vendor_versions
from app.i18n import LANG_COOKIE, load_strings, page_strings, pick_lang
from app.knobs import form_knobs
from app.lab.memory import RUN_PREFIX, UPLOAD_PREFIX
from app.schemas import ARCHS, TraceKnobs
from app.settings import Settings, get_settings
from models import limits

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")
# |tojson writes Korean as it is, not as \uXXXX escapes (a third more bytes); <, >, & and ' stay escaped
templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
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


# The two third-party scripts: (npm package, file in it, its path on the CDN).
ASSETS = {"htmx": ("htmx.org", "dist/htmx.min.js", "dist/htmx.min.js"),
          "plotly": ("plotly.js-cartesian-dist-min", "plotly-cartesian.min.js", "plotly-cartesian.min.js")}
MOUNTS = {"htmx": "/vendor/htmx", "plotly": "/vendor/plotly"}  # where app.main serves node_modules' copies
CDN = "https://cdn.jsdelivr.net/npm"


@lru_cache
def assets() -> dict[str, dict[str, str]]:
    """Each script's local URL (versioned by package-lock.json, so it can be cached for a year), its CDN
    URL and the SRI hash that makes the CDN copy safe to run (the CDN serves npm's file byte for byte)."""
    versions = vendor_versions()
    out = {}
    for name, (package, local_file, cdn_file) in ASSETS.items():
        version = versions.get(package)
        mount = f"{MOUNTS[name]}@{version}" if version else MOUNTS[name]
        local = f"{mount}/{local_file.removeprefix('dist/')}"
        path = ROOT / "node_modules" / package / local_file
        sri = "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode() if path.exists() else ""
        out[name] = {"local": local, "cdn": f"{CDN}/{package}@{version}/{cdn_file}" if version else "", "sri": sri}
    return out


def asset_context(settings: Settings) -> dict[str, Any]:
    """What base.html needs to load the scripts: local copies unless the CDN is opted into (and knowable)."""
    scripts = assets()
    use_cdn = settings.use_cdn and all(a["cdn"] and a["sri"] for a in scripts.values())
    return {"use_cdn": use_cdn, "assets": scripts}


def bench_context(request: Request, accept_language: str | None) -> dict[str, Any]:
    query = dict(request.query_params)
    lang = pick_lang(query.get("lang"), request.cookies.get(LANG_COOKIE), accept_language)
    settings = _settings(request)
    arch: str = query["arch"] if query.get("arch") in ARCHS else TraceKnobs.model_fields["arch"].default
    knobs_spec = form_knobs(arch, settings, {**checkpoints_for(arch), **_run_choice(request, query)}, lang)
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
        # what its scripts read, not the whole table
        "i18n": page_strings(lang, "bench-seq2seq" if query.get("mode") == "seq2seq" else "bench"),
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
        **asset_context(settings),
    }


def _run_choice(request: Request, query: dict[str, str]) -> dict[str, dict[str, str]]:
    """A training run or an upload the URL opens (checkpoint=run:<id>, upload:<hash>) as one more choice
    of the checkpoint menu, so the form keeps it; the API checks it like any checkpoint."""
    name = query.get("checkpoint", "")
    if name.startswith(UPLOAD_PREFIX):
        memory = request.app.state.memory
        return {name: memory.get(name).describe} if memory.has(name) else {}
    run = request.app.state.lab.get(name.removeprefix(RUN_PREFIX).partition("@")[0])
    if not name.startswith(RUN_PREFIX) or run is None:
        return {}
    facts = {"task": run.knobs["task"], "arch": run.knobs["arch"], "step": name.partition("@")[2] or run.step}
    return {name: {lang: load_strings(lang)["lab_bench_choice"].format(**facts) for lang in ("ko", "en")}}


HxRequest = Annotated[str | None, Header(alias="HX-Request")]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language")]


@router.get("/bench", response_class=HTMLResponse)
def get_bench_page(
    request: Request, hx_request: HxRequest = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The bench for the knobs in the query; only the #bench partial when htmx asks."""
    context = bench_context(request, accept_language)
    if request.query_params.get("mode") == "seq2seq":  # the encoder-decoder mode (pages/bench-seq2seq.js)
        from app.seq2seq import seq2seq_checkpoints
        from models.seq2seq import MAX_SOURCE_LEN

        context |= {"s2s_checkpoints": list(seq2seq_checkpoints()), "s2s_max_source": MAX_SOURCE_LEN}
    template = "partials/bench_main.html" if hx_request == "true" else "bench.html"
    response = templates.TemplateResponse(request, template, context)
    response.headers["Vary"] = "HX-Request, Accept-Language"  # one URL, two bodies: caches must tell them apart
    return response
