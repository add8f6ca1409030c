"""The lessons: the index (/), one page per lesson (/lessons/{slug}), the glossary (/glossary), and
GET /api/lessons (every lesson's figures and questions, for tools and tests).

Pages are in the learner's language: ?lang= (which also sets the `lang` cookie, so the choice sticks),
then the cookie, then Accept-Language, Korean when nothing matches. The lesson's prose is rendered on
the server (app.lessons.prose); each figure's spec goes into the page as JSON for
static/js/pages/lesson.js, which mounts its panels and controls.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse

from app.i18n import LANG_COOKIE, LANGS, load_strings, pick_lang
from app.lessons import LESSONS_DIR, Lesson, LessonBook, lesson_book
from app.lessons.prose import inline_html
from app.lessons.registry import PANELS_DIR, control_specs, panel_ids
from app.lessons.spec import FigureSpec, QuestionSpec

router = APIRouter(tags=["lessons"])

AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language")]
COOKIE_MAX_AGE = 365 * 24 * 3600
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def get_book(request: Request) -> LessonBook:
    """The lessons this app serves: lessons/ and static/js/panels/, or app.state.lessons_dir and
    app.state.panels_dir where a test points them at fixtures."""
    state = request.app.state
    return lesson_book(getattr(state, "lessons_dir", LESSONS_DIR), getattr(state, "panels_dir", PANELS_DIR))


BookDep = Annotated[LessonBook, Depends(get_book)]


def _lang(request: Request, accept_language: str | None) -> str:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), accept_language)


def _page(request: Request, template: str, lang: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    from app.pages import asset_context, templates
    from app.settings import get_settings

    settings = getattr(request.app.state, "settings", None) or get_settings()
    response = templates.TemplateResponse(request, template, {
        "lang": lang,
        "other_lang": "en" if lang == "ko" else "ko",
        "t": load_strings(lang),
        **asset_context(settings),
        **context,
    }, status_code=status)
    response.headers["Vary"] = "Accept-Language, Cookie"
    chosen = request.query_params.get("lang")
    if chosen in LANGS and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="lax")
    return response


# ---- numbers for people (bin labels) ----

def readable(x: float) -> str:
    """1e-06 -> 10⁻⁶, 0.001 -> 0.001, 0.25 -> 0.25, 1500 -> 1500, 1e5 -> 10⁵."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    exponent = math.log10(abs(x))
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        if abs(exponent - round(exponent)) < 1e-9:
            return ("−" if x < 0 else "") + "10" + str(round(exponent)).translate(SUPERSCRIPT)
        mantissa, exp = f"{x:.1e}".split("e")
        return f"{mantissa}×10{str(int(exp)).translate(SUPERSCRIPT)}"
    return f"{x:g}".replace("-", "−")


def bin_options(edges: tuple[float, ...]) -> list[dict[str, Any]]:
    out = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        if math.isinf(lo):
            label = f"< {readable(hi)}"
        elif math.isinf(hi):
            label = f"≥ {readable(lo)}"
        else:
            label = f"{readable(lo)} – {readable(hi)}"
        out.append({"index": i, "label": label})
    return out


def _json_number(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")  # JSON has no infinity


# ---- what the page hands lesson.js ----

def _controls(fig: FigureSpec, arch: str, lang: str) -> list[dict[str, Any]]:
    if not fig.controls:
        return []
    specs = control_specs(arch)
    strings = load_strings(lang)
    out = []
    for name in fig.controls:
        if name == "arch":
            from app.schemas import ARCHS

            spec = {"widget": "select", "type": "string", "choices": list(ARCHS), "nullable": False, "default": "lstm"}
        else:
            spec = dict(specs.get(name, {}))
        spec.pop("description", None)
        spec.pop("descriptions", None)
        spec["name"] = name
        spec["id"] = f"control-{fig.id}-{name}"
        spec["label"] = strings.get(f"knob_{name}", name)
        spec["value"] = fig.knobs.get(name, spec.get("default"))
        if "choices" in spec:
            spec["choice_labels"] = {str(c): strings.get(f"choice_{name}_{'' if c is None else c}", str(c))
                                     for c in spec["choices"]}
        if spec.get("widget") in ("number", "range"):
            spec |= _slider(fig, name, spec)
            spec["null_label"] = strings.get(f"lesson_null_{name}", strings["lesson_off"])  # what null means
        out.append(spec)
    return out


def _slider(fig: FigureSpec, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A number knob as a slider: its ends (the lesson's range, else the knob's limits; a step count
    past 2000 makes it a number field instead), its step and where it starts."""
    integer = spec.get("type") == "integer"
    lo = spec.get("min", spec.get("greater_than", 0))
    hi = spec.get("max")
    if name == "truncation" and isinstance(fig.knobs.get("text"), str):
        hi = min(hi, len(fig.knobs["text"]))  # a cut every k > T steps is no cut
    if name in fig.ranges:
        lo, hi = fig.ranges[name]
    value = spec["value"]
    start = value if value is not None else (spec.get("default") if spec.get("default") is not None else lo)
    if hi is None:  # no upper limit (top_k: the vocabulary's size is checked by the API): a number field
        return {"slider": False, "lo": lo, "hi": None, "step": 1 if integer else "any", "start": max(start, lo)}
    step = spec.get("step") or (1 if integer else (hi - lo) / 100)
    return {"slider": (hi - lo) / step <= 2000, "lo": lo, "hi": hi, "step": step,
            "start": min(max(start, lo), hi)}


def _lab(fig: FigureSpec) -> dict[str, Any] | None:
    """A lab figure's runs (full POST /api/runs bodies) and what the plots need of their task."""
    if fig.source != "lab":
        return None
    from app.lessons.loader import lab_runs
    from models.training.tasks import get_task

    runs = lab_runs(fig.knobs)
    task = get_task(runs[0]["task"])
    return {"api": "/api/runs", "runs": runs,
            "task": {"name": task.name, "regression": task.regression, "has_accuracy": task.has_accuracy}}


def figure_config(lesson: Lesson, fig: FigureSpec, lang: str) -> dict[str, Any]:
    return {
        "id": fig.id,
        "source": fig.source,
        "arch": lesson.arch[fig.id],
        "knobs": fig.knobs,
        "compare": fig.compare,
        "labels": list(getattr(fig.labels, lang)) if fig.labels else None,
        "controls": _controls(fig, lesson.arch[fig.id], lang),
        "panels": list(fig.panels),
        "view": fig.view,
        "shuffle": fig.shuffle,
        "lab": _lab(fig),
    }


def question_config(q: QuestionSpec, lang: str) -> dict[str, Any]:
    text = getattr(q, lang)
    return {
        "id": q.id, "figure": q.figure, "kind": q.kind, "answer": q.answer, "args": q.args, "scale": q.scale,
        "range": list(q.range) if q.range else None, "tolerance": q.tolerance, "tie": q.tie,
        "edges": [_json_number(e) for e in q.edges] if q.edges else None,
        "prompt": text.prompt, "explain": text.explain,
    }


def lesson_config(lesson: Lesson, lang: str) -> dict[str, Any]:
    return {
        "slug": lesson.slug,
        "lang": lang,
        "sections": [s.id for s in lesson.prose[lang].sections],
        "figures": [figure_config(lesson, f, lang) for f in lesson.spec.figures],
        "questions": [question_config(q, lang) for q in lesson.spec.questions],
        "i18n": load_strings(lang),
    }


CORE_MODULES = ("answers", "figure", "format", "keys", "source", "theme", "view")


def _preload(lesson: Lesson) -> list[str]:
    """The modules lesson.js imports: the core ones and the lesson's panels (with their shared helpers)."""
    panels = sorted({p for f in lesson.spec.figures for p in f.panels})
    helpers = [p.stem for p in sorted(PANELS_DIR.glob("*.js")) if p.stem not in panel_ids(PANELS_DIR)]
    return [f"core/{m}" for m in CORE_MODULES] + [f"panels/{p}" for p in panels + helpers]


def _neighbours(book: LessonBook, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    i = book.lessons.index(lesson)
    return (book.lessons[i - 1] if i else None), (book.lessons[i + 1] if i + 1 < len(book.lessons) else None)


def _index_items(book: LessonBook, lang: str) -> list[dict[str, Any]]:
    return [{"slug": lesson.slug, "order": lesson.order, "title": lesson.title(lang),
             "see": lesson.prose[lang].see, "sections": [s.id for s in lesson.prose[lang].sections],
             "questions": [q.id for q in lesson.spec.questions]} for lesson in book.lessons]


# ---- routes ----

@router.get("/", response_class=HTMLResponse)
def get_lesson_index(request: Request, book: BookDep, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """Every lesson in order: its title, what you will see, and how far the learner got (localStorage)."""
    lang = _lang(request, accept_language)
    return _page(request, "index.html", lang, {"lessons": _index_items(book, lang), "missing": None})


@router.get("/lessons/{slug}", response_class=HTMLResponse, responses={404: {"description": "no such lesson"}})
def get_lesson_page(slug: str, request: Request, book: BookDep, accept_language: AcceptLanguage = None
                    ) -> HTMLResponse:
    """One lesson: its prose with live figures and predict-then-reveal questions; 404 for an unknown slug."""
    lang = _lang(request, accept_language)
    lesson = book.get(slug)
    if lesson is None:
        return _page(request, "index.html", lang, {"lessons": _index_items(book, lang), "missing": slug}, status=404)
    previous, following = _neighbours(book, lesson)
    questions = {}
    for q in lesson.spec.questions:
        text = getattr(q, lang)
        questions[q.id] = {**question_config(q, lang), "options": bin_options(q.edges) if q.edges else None,
                           "prompt_html": inline_html(text.prompt), "explain_html": inline_html(text.explain),
                           "labels": list(getattr(lesson.figure(q.figure).labels, lang))
                           if lesson.figure(q.figure).labels else None}
    return _page(request, "lesson.html", lang, {
        "lesson": lesson,
        "prose": lesson.prose[lang],
        "figures": {f.id: figure_config(lesson, f, lang) for f in lesson.spec.figures},
        "questions": questions,
        "config_json": dumps_config(lesson_config(lesson, lang)),
        "preload": _preload(lesson),
        "previous": previous,
        "following": following,
    })


@router.get("/glossary", response_class=HTMLResponse)
def get_glossary_page(request: Request, book: BookDep, accept_language: AcceptLanguage = None) -> HTMLResponse:
    """Every term in Korean and English, linked to the lesson that introduces it."""
    lang = _lang(request, accept_language)
    titles = {lesson.slug: lesson.title(lang) for lesson in book.lessons}
    order = {lesson.slug: lesson.order for lesson in book.lessons}
    key = "ko" if lang == "ko" else "en"
    terms = sorted(book.glossary, key=lambda t: (order.get(t["lesson"], 99), t[key].casefold()))
    return _page(request, "glossary.html", lang, {"terms": terms, "titles": titles})


@router.get("/api/lessons")
def get_lessons(book: BookDep) -> dict[str, Any]:
    """Every lesson: slug, title {ko, en}, its figures (knobs, panels, controls) and its questions."""
    return {"lessons": [lesson.summary() for lesson in book.lessons]}


def dumps_config(config: dict[str, Any]) -> str:
    """JSON for a <script type="application/json">: '<' escaped so no text can close the tag."""
    return json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
