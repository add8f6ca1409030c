"""lessons/glossary.toml: every term in Korean and English, with the lesson that introduces it.

    [[terms]]
    ko = "기울기 소실"
    en = "vanishing gradient"
    lesson = "05-vanishing"        # the slug (directory name) of the lesson that introduces it
    ko_note = "경사소실이라고도 씁니다"  # optional, one line each
    en_note = "..."
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ko: str = Field(min_length=1)
    en: str = Field(min_length=1)
    lesson: str | int = Field(description="slug of the lesson that introduces the term (or its order number)")
    ko_note: str | None = None
    en_note: str | None = None

    @field_validator("ko", "en")
    @classmethod
    def not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("is blank")
        return text.strip()


class Glossary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: tuple[Term, ...] = ()


def load_glossary(path: Path, slugs_by_order: dict[int, str]) -> tuple[list[dict], list[str]]:
    """(terms as {ko, en, lesson (slug), ko_note, en_note}, errors); a missing file is no glossary yet."""
    if not path.exists():
        return [], []
    where = path.as_posix()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        glossary = Glossary.model_validate(raw)
    except tomllib.TOMLDecodeError as e:
        return [], [f"{where}: not valid TOML: {e}"]
    except ValidationError as e:
        return [], [f"{where}: {_loc(err['loc'])}: {err['msg']}" for err in e.errors()]
    terms, errors, seen = [], [], {}
    slugs = set(slugs_by_order.values())
    for i, term in enumerate(glossary.terms):
        slug = slugs_by_order.get(term.lesson) if isinstance(term.lesson, int) else term.lesson
        if slug not in slugs:
            errors.append(f"{where}: terms[{i}] ({term.en}): lesson {term.lesson!r} is not a lesson "
                          f"(one of {sorted(slugs)})")
        for lang in ("ko", "en"):
            key = (lang, getattr(term, lang).casefold())
            if key in seen:
                errors.append(f"{where}: terms[{i}]: {lang} term {getattr(term, lang)!r} is listed twice "
                              f"(also terms[{seen[key]}])")
            seen[key] = i
        terms.append({"ko": term.ko, "en": term.en, "lesson": slug, "ko_note": term.ko_note,
                      "en_note": term.en_note})
    return terms, errors


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
