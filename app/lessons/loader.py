"""Load and validate every lessons/NN-slug/ (lesson.toml, ko.md, en.md) and lessons/glossary.toml.

Validation reads each fact from its one place: knobs through the request model (app.schemas.KnobBody,
which forbids unknown knobs, then app.engine.check_knobs for the checks across knobs), controls through
the knob table (a control must apply to the figure's architecture), panel ids from the files of
static/js/panels/ (and each panel's `export const archs`), answer functions from the exports of
static/js/core/answers.js. A lesson with any error is left out of the pages and its errors are listed;
tests/app/test_lessons.py asserts the real lessons/ has none.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.errors import error_sentence
from app.lessons import registry
from app.lessons.glossary import load_glossary
from app.lessons.prose import Prose, parse_prose
from app.lessons.spec import FigureSpec, LessonSpec, QuestionSpec

log = logging.getLogger("unrolled.lessons")

LESSONS_DIR = registry.ROOT / "lessons"
LANGS = ("ko", "en")
SLUG = re.compile(r"^\d\d-[a-z0-9]+(?:-[a-z0-9]+)*$")
_PANEL_ARCHS = re.compile(r"^export\s+const\s+archs\s*=\s*(?:\[(?P<list>[^\]]*)\]|(?P<name>[A-Za-z_]\w*))", re.M)
_ARCH = re.compile(r"[\"']([a-z0-9]+)[\"']")


@dataclass(frozen=True)
class Lesson:
    slug: str
    spec: LessonSpec
    prose: dict[str, Prose]  # lang -> prose
    arch: dict[str, str]  # figure id -> architecture (after defaults)

    @property
    def order(self) -> int:
        return self.spec.order

    def title(self, lang: str) -> str:
        return self.prose[lang].title

    def figure(self, figure_id: str) -> FigureSpec:
        return next(f for f in self.spec.figures if f.id == figure_id)

    def question(self, question_id: str) -> QuestionSpec:
        return next(q for q in self.spec.questions if q.id == question_id)

    def summary(self) -> dict[str, Any]:
        """What GET /api/lessons says about the lesson."""
        return {
            "slug": self.slug,
            "order": self.order,
            "title": {lang: self.prose[lang].title for lang in LANGS},
            "see": {lang: self.prose[lang].see for lang in LANGS},
            "sections": [s.id for s in self.prose["ko"].sections],
            "figures": [
                {"id": f.id, "source": f.source, "arch": self.arch[f.id], "knobs": f.knobs, "compare": f.compare,
                 "panels": list(f.panels), "controls": list(f.controls), "view": f.view}
                for f in self.spec.figures
            ],
            "questions": [
                {"id": q.id, "figure": q.figure, "kind": q.kind, "answer": q.answer, "args": q.args}
                for q in self.spec.questions
            ],
        }


@dataclass(frozen=True)
class LessonBook:
    lessons: tuple[Lesson, ...]  # the valid ones, by order
    errors: tuple[str, ...]
    glossary: tuple[dict, ...] = ()
    by_slug: dict[str, Lesson] = field(default_factory=dict)

    def get(self, slug: str) -> Lesson | None:
        return self.by_slug.get(slug)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@lru_cache
def _panel_archs(path: Path, mtime: float) -> tuple[str, ...] | None:
    """`export const archs = ["rnn", ...]`, or `= RECURRENT` with that constant declared as a list in the
    module or in a sibling module (common.js)."""
    match = _PANEL_ARCHS.search(path.read_text(encoding="utf-8"))
    if not match:
        return None
    if match["list"] is not None:
        return tuple(_ARCH.findall(match["list"]))
    declared = re.compile(rf"\bconst\s+{re.escape(match['name'])}\s*=\s*\[([^\]]*)\]")
    for module in [path, *sorted(path.parent.glob("*.js"))]:
        found = declared.search(module.read_text(encoding="utf-8"))
        if found:
            return tuple(_ARCH.findall(found[1]))
    return None


def panel_archs(panel: str, directory: Path) -> tuple[str, ...] | None:
    """A panel's `export const archs = [...]`, or None when it does not say (then it takes any)."""
    path = directory / f"{panel}.js"
    return _panel_archs(path, path.stat().st_mtime) if path.exists() else None


def _check_knobs(where: str, knobs: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(the architecture, errors) for one figure side's trace knobs."""
    from app.engine import check_knobs
    from app.errors import KnobError
    from app.schemas import KnobBody
    from app.settings import get_settings

    try:
        model = KnobBody.model_validate(knobs)
    except ValidationError as e:
        out = []
        for err in e.errors():
            name = ".".join(str(p) for p in err["loc"]) or "knobs"
            if err["type"] == "extra_forbidden":
                out.append(f"{where}: unknown knob {name!r} (knobs: {', '.join(registry.knob_names())})")
            else:
                out.append(f"{where}.{name}: {err['msg'].removeprefix('Value error, ')}")
        return knobs.get("arch") if isinstance(knobs.get("arch"), str) else None, out
    try:
        check_knobs(model, get_settings())
    except KnobError as e:
        sentence = error_sentence({"type": f"knob_{e.code}", "loc": [e.field], "ctx": e.ctx}, "en")
        return model.arch, [f"{where}.{e.field}: {sentence}"]
    return model.arch, []


def _check_request(where: str, source: str, knobs: dict[str, Any]) -> list[str]:
    """Knobs of a sample / ar figure, through the language-model endpoints' own request model."""
    model = registry.request_model(source)
    if model is None:
        return [f"{where}: source {source!r} needs app/lm.py (POST /api/sample, GET /api/ar)"]
    errors = [f"{where}: unknown knob {k!r} (knobs: {', '.join(model.model_fields)})"
              for k in knobs if k not in model.model_fields]
    try:
        model.model_validate({k: v for k, v in knobs.items() if k in model.model_fields})
    except ValidationError as e:
        errors += [f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
    return errors


LAB_MAX_RUNS = 4  # a lab figure's runs: each costs server time and one of the page's EventSources


def _lab_bodies(knobs: dict[str, Any]) -> list[dict[str, Any]]:
    from app.lab.presets import PRESETS

    if "runs" in knobs:
        if set(knobs) != {"runs"} or not isinstance(knobs["runs"], list) or not all(isinstance(r, dict)
                                                                                  for r in knobs["runs"]):
            raise ValueError("give either runs = [{...}, ...] alone or preset = \"name\" with overrides")
        return knobs["runs"]
    if "preset" in knobs:
        name = knobs["preset"]
        if name not in PRESETS:
            raise KeyError(f"unknown preset {name!r} (presets: {', '.join(PRESETS)})")
        overrides = {k: v for k, v in knobs.items() if k != "preset"}
        return [{**run, **overrides} for run in PRESETS[name]]
    raise ValueError("needs preset = \"name\" (app/lab/presets.py) or runs = [{...}, ...]")


def lab_runs(knobs: dict[str, Any]) -> list[dict[str, Any]]:
    """A lab figure's runs as full LabKnobs dicts (what POST /api/runs gets): `preset = "memory_race"` with any
    other key an override applied to each of its runs (`steps = 600`: shorter than the lab page's), or
    `runs = [{...}, ...]`, each a LabKnobs body. Raises KeyError, ValueError or ValidationError when wrong."""
    from app.lab.schemas import LabKnobs

    return [LabKnobs.model_validate(body).model_dump() for body in _lab_bodies(knobs)]


def _check_lab(where: str, knobs: dict[str, Any]) -> list[str]:
    """A lab figure's runs through POST /api/runs' own model (app.lab.schemas.LabKnobs, unknown knobs
    forbidden) and its checks across knobs (train_config: the task's length, the server's cost limit).
    Places are `knobs.runs[i].field` for a list of runs, `knobs.field` for a preset's overrides."""
    from app.errors import KnobError
    from app.lab.schemas import LabKnobs, train_config
    from app.settings import get_settings

    try:
        bodies = _lab_bodies(knobs)
    except KeyError as e:
        return [f"{where}.preset: {e.args[0]}"]
    except ValueError as e:
        return [f"{where}: {e}"]
    errors: list[str] = []
    listed = "runs" in knobs

    def add(line: str) -> None:
        if line not in errors:  # a preset's override fails the same way for each of its runs
            errors.append(line)

    if not 1 <= len(bodies) <= LAB_MAX_RUNS:
        add(f"{where}: {len(bodies)} runs; a lab figure has 1 to {LAB_MAX_RUNS}")
    tasks = set()
    for i, body in enumerate(bodies):
        place = f"{where}.runs[{i}]" if listed else where
        try:
            model = LabKnobs.model_validate(body)
        except ValidationError as e:
            for err in e.errors():
                name = ".".join(str(p) for p in err["loc"]) or "knobs"
                if err["type"] == "extra_forbidden":
                    add(f"{place}: unknown lab knob {name!r} (knobs: {', '.join(LabKnobs.model_fields)})")
                else:
                    add(f"{place}.{name}: {err['msg'].removeprefix('Value error, ')}")
            continue
        tasks.add(model.task)
        try:
            train_config(model, get_settings().lab_max_gmacs)
        except KnobError as e:
            sentence = error_sentence({"type": f"knob_{e.code}", "loc": [e.field], "ctx": e.ctx}, "en")
            add(f"{place}.{e.field}: {sentence}")
    if len(tasks) > 1:
        add(f"{where}: the runs of one figure share a task (one baseline, one loss axis)")
    return errors


def _check_view(where: str, view: dict[str, Any]) -> list[str]:
    out = []
    for key, value in view.items():
        if key not in registry.VIEW_KEYS:
            out.append(f"{where}: unknown view key {key!r} (one of {', '.join(registry.VIEW_KEYS)})")
        elif key == "phase":
            if value not in registry.VIEW_KEYS["phase"]:
                out.append(f"{where}.phase: {value!r} is not 'forward' or 'backward'")
        elif key in ("step", "bstep") and value == "end":
            continue
        elif key == "loss" and value is None:
            continue
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            out.append(f"{where}.{key}: {value!r} must be an integer >= 0" + (" or 'end'" if key in ("step", "bstep")
                                                                                else ""))
    return out


def _check_ranges(here: str, fig: FigureSpec, arch: str) -> list[str]:
    errors = []
    specs = registry.control_specs(arch) if fig.ranges else {}
    for name, (lo, hi) in fig.ranges.items():
        if name not in fig.controls:
            errors.append(f"{here}.ranges: {name!r} is not one of the controls")
            continue
        spec = specs.get(name, {})
        if spec.get("widget") not in ("number", "range"):
            errors.append(f"{here}.ranges: {name!r} is not a number knob")
            continue
        low = spec.get("min", spec.get("greater_than"))
        if not lo < hi or (low is not None and lo < low) or ("max" in spec and hi > spec["max"]):
            errors.append(f"{here}.ranges.{name}: [{lo}, {hi}] must be low < high within the knob's limits "
                          f"[{low}, {spec.get('max')}]")
    return errors


def _check_figure(where: str, fig: FigureSpec, panels: frozenset[str], panels_dir: Path) -> tuple[str, list[str]]:
    errors: list[str] = []
    here = f"{where}: figures[{fig.id}]"
    if fig.source == "trace":
        arch, errors = _check_knobs(f"{here}.knobs", fig.knobs)
        arch = arch or "lstm"
        if fig.compare is not None:
            if not fig.compare:
                errors.append(f"{here}.compare: empty (give the knobs B changes)")
            unknown = [k for k in fig.compare if k not in registry.knob_names()]
            if unknown:
                errors.append(f"{here}.compare: unknown knob {unknown[0]!r}")
            elif fig.compare:
                _, b_errors = _check_knobs(f"{here}.compare", {**fig.knobs, **fig.compare})
                errors += b_errors
        archs = [arch] + ([fig.compare["arch"]] if fig.compare and isinstance(fig.compare.get("arch"), str) else [])
    else:
        arch, archs = fig.source, [fig.source]  # its panels must say they draw this source (sample.js, ar.js)
        if fig.source == "lab":
            errors += _check_lab(f"{here}.knobs", fig.knobs)
            if fig.controls:
                errors.append(f"{here}.controls: a lab figure has none (its runs are fixed by the lesson)")
            if fig.ranges:
                errors.append(f"{here}.ranges: a lab figure has no controls")
        else:
            errors += _check_request(f"{here}.knobs", fig.source, fig.knobs)
        if fig.compare is not None:
            errors.append(f"{here}.compare: only trace figures have a B side")
        if fig.shuffle:
            errors.append(f"{here}.shuffle: only trace figures shuffle their text")
    if fig.labels is not None and fig.compare is None:
        errors.append(f"{here}.labels: name the sides of a compare figure only")
    for name in fig.controls if fig.source != "lab" else ():
        if fig.source != "trace":
            model = registry.request_model(fig.source)
            if model is not None and name not in model.model_fields:
                errors.append(f"{here}.controls: {name!r} is not a knob of {fig.source} "
                              f"(knobs: {', '.join(model.model_fields)})")
        elif name not in registry.knob_names():
            errors.append(f"{here}.controls: {name!r} is not a knob (knobs: {', '.join(registry.knob_names())})")
        elif not registry.knob_applies(name, arch):
            errors.append(f"{here}.controls: {name!r} does not apply to {arch}")
    if fig.source != "lab":
        errors += _check_ranges(here, fig, arch)
    for panel in fig.panels:
        if panel not in panels:
            known = ", ".join(sorted(panels)) or f"none yet: {panels_dir} is empty"
            errors.append(f"{here}.panels: unknown panel {panel!r} (panels: {known})")
            continue
        takes = panel_archs(panel, panels_dir)
        for a in archs:
            if takes is not None and a not in takes:
                errors.append(f"{here}.panels: panel {panel!r} does not draw {a} (it takes {', '.join(takes)})")
    errors += _check_view(f"{here}.view", fig.view)
    return arch, errors


def _check_questions(where: str, spec: LessonSpec, answers: frozenset[str]) -> list[str]:
    errors = []
    figures = {f.id: f for f in spec.figures}
    for q in spec.questions:
        here = f"{where}: questions[{q.id}]"
        fig = figures.get(q.figure)
        if fig is None:
            errors.append(f"{here}.figure: no figure {q.figure!r} (figures: {', '.join(figures)})")
        if q.answer not in answers:
            known = ", ".join(sorted(answers)) or "none: static/js/core/answers.js exports none"
            errors.append(f"{here}.answer: no answer function {q.answer!r} (answers: {known})")
        if fig is not None and fig.compare is None and (q.kind == "compare" or q.answer.endswith("_ab")):
            errors.append(f"{here}: kind 'compare' and *_ab answers need a figure with a compare (B) side")
        # sample_* read a sample, ar_* the AR counts, lab_* a lab figure's runs, the rest a trace
        wants = next((src for src in ("sample", "ar", "lab", "seq2seq", "shapes")
                      if q.answer.startswith(f"{src}_")), "trace")
        if fig is not None and fig.source != wants:
            errors.append(f"{here}.answer: {q.answer} reads a {wants} figure; "
                          f"figure {fig.id!r} is source {fig.source!r}")
    return errors


def _repeats(where: str, what: str, ids: list[str]) -> list[str]:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    return [f"{where}: {what} ids used twice: {repeated}"] if repeated else []


def load_lesson(directory: Path, panels: frozenset[str] | None = None, answers: frozenset[str] | None = None,
                panels_dir: Path = registry.PANELS_DIR) -> tuple[Lesson | None, list[str]]:
    """(the lesson, []) or (None, errors): every error of the lesson, each naming its file and place."""
    panels = registry.panel_ids(panels_dir) if panels is None else panels
    answers = registry.answer_names() if answers is None else answers
    toml_path = directory / "lesson.toml"
    where = f"lessons/{directory.name}/lesson.toml"
    if not toml_path.exists():
        return None, [f"{where}: missing"]
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        return None, [f"{where}: not valid TOML: {e}"]
    names = {"figures": {}, "questions": {}}
    for key in names:
        for i, item in enumerate(raw.get(key, []) if isinstance(raw.get(key), list) else []):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                names[key][i] = item["id"]
    try:
        spec = LessonSpec.model_validate(raw)
    except ValidationError as e:
        out = []
        for err in e.errors():
            loc = err["loc"]
            ids = names.get(loc[0], {}) if loc else {}
            if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] in ids:
                text = f"{loc[0]}[{ids[loc[1]]}]" + ("." + _loc(loc[2:]) if loc[2:] else "")
            else:
                text = _loc(loc)
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            out.append(f"{where}: {text}: {msg}")
        return None, out

    errors = _repeats(where, "figure", [f.id for f in spec.figures])
    errors += _repeats(where, "question", [q.id for q in spec.questions])
    arch = {}
    for fig in spec.figures:
        arch[fig.id], fig_errors = _check_figure(where, fig, panels, panels_dir)
        errors += fig_errors
    errors += _check_questions(where, spec, answers)

    prose: dict[str, Prose] = {}
    for lang in LANGS:
        path = directory / f"{lang}.md"
        md_where = f"lessons/{directory.name}/{lang}.md"
        if not path.exists():
            errors.append(f"{md_where}: missing")
            continue
        parsed, prose_errors = parse_prose(path.read_text(encoding="utf-8"), md_where)
        errors += prose_errors
        if parsed is None:
            continue
        prose[lang] = parsed
        for kind, ids in (("figure", [f.id for f in spec.figures]), ("question", [q.id for q in spec.questions])):
            placed = parsed.placed.get(kind, [])
            for missing in [i for i in placed if i not in ids]:
                errors.append(f"{md_where}: {{{{ {kind} {missing} }}}}: lesson.toml has no {kind} {missing!r}")
            for unplaced in [i for i in ids if i not in placed]:
                errors.append(f"{md_where}: {kind} {unplaced!r} of lesson.toml is never placed "
                              f"(add a line '{{{{ {kind} {unplaced} }}}}')")
    if len(prose) == len(LANGS):
        ko, en = ([s.id for s in prose[lang].sections] for lang in LANGS)
        if ko != en:
            errors.append(f"lessons/{directory.name}: section ids differ: ko.md {ko} vs en.md {en}")
    if errors:
        return None, errors
    return Lesson(slug=directory.name, spec=spec, prose=prose, arch=arch), []


def load_lessons(root: Path = LESSONS_DIR, panels_dir: Path = registry.PANELS_DIR) -> LessonBook:
    """Every lesson under root (directories named NN-slug), validated; the glossary beside them."""
    lessons, errors = [], []
    panels, answers = registry.panel_ids(panels_dir), registry.answer_names()
    dirs = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for directory in dirs:
        if not SLUG.match(directory.name):
            if not directory.name.startswith((".", "_")):
                errors.append(f"lessons/{directory.name}: not a lesson directory name (NN-slug)")
            continue
        lesson, lesson_errors = load_lesson(directory, panels, answers, panels_dir)
        errors += lesson_errors
        if lesson is not None:
            lessons.append(lesson)
    orders: dict[int, str] = {}
    for lesson in lessons:
        if lesson.order in orders:
            errors.append(f"lessons/{lesson.slug}: order {lesson.order} is also lessons/{orders[lesson.order]}'s")
        orders[lesson.order] = lesson.slug
    lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
    terms, glossary_errors = load_glossary(root / "glossary.toml", {o: s for o, s in orders.items()})
    errors += [e.replace(root.as_posix(), "lessons") for e in glossary_errors]
    for error in errors:
        log.warning("%s", error)
    return LessonBook(tuple(lessons), tuple(errors), tuple(terms), {lesson.slug: lesson for lesson in lessons})


def _signature(root: Path, panels_dir: Path) -> tuple:
    """The files a book is read from, with their times: a changed lesson reloads without a restart."""
    files = [*root.glob("*/*"), root / "glossary.toml", *panels_dir.glob("*.js"), registry.ANSWERS_JS]
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files if p.exists()))


_cache: dict[tuple, LessonBook] = {}


def lesson_book(root: Path = LESSONS_DIR, panels_dir: Path = registry.PANELS_DIR) -> LessonBook:
    """The book for root, read once and again only when one of its files changes."""
    key = (str(root), str(panels_dir), _signature(root, panels_dir))
    book = _cache.get(key)
    if book is None:
        _cache.clear()
        book = _cache[key] = load_lessons(root, panels_dir)
    return book
