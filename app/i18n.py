"""The interface's words: every user-visible string, in Korean and English, lives in
static/i18n/{lang}/*.json (one file per area: bench, errors, lesson ...), merged here into one table
per language. Pages, API error messages and the JS all read these tables; nothing restates a string.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
I18N_DIR = ROOT / "static" / "i18n"
LANGS = ("ko", "en")
DEFAULT_LANG = "ko"
LANG_COOKIE = "lang"


# What a page's scripts read, embedded in the page: area files, and the families of keys they build
# from a prefix (`knob_${field}` names the field of a 422, whatever the area). /bench's modules
# (pages/bench.js and what it imports) read bench and rooms, /bench?mode=seq2seq's (pages/bench-seq2seq.js)
# seq2seq as well; the whole table would add ~10 KB gzipped to every first load
# (tests/app/test_page_strings.py walks the imports).
PAGE_AREAS = {"bench": (("bench", "rooms"), ("knob_", "choice_")),
              "bench-seq2seq": (("bench", "rooms", "seq2seq"), ("knob_", "choice_"))}


@lru_cache
def load_areas(lang: str) -> dict[str, dict[str, str]]:
    """Each area file's strings (bench, errors, lesson ...) of one language."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((I18N_DIR / lang).glob("*.json"))}


@lru_cache
def load_strings(lang: str) -> dict[str, str]:
    """All strings of one language; a key defined in two area files is a bug, so it raises."""
    table: dict[str, str] = {}
    for area, part in load_areas(lang).items():
        clash = table.keys() & part.keys()
        if clash:
            raise ValueError(f"{I18N_DIR / lang / area}.json: keys defined twice: {sorted(clash)}")
        table |= part
    return table


@lru_cache
def page_strings(lang: str, page: str) -> dict[str, str]:
    """The strings a page's scripts read (PAGE_AREAS), for the page to embed."""
    names, prefixes = PAGE_AREAS[page]
    areas = load_areas(lang)
    built = {k: v for k, v in load_strings(lang).items() if k.startswith(prefixes)}
    return built | {k: v for area in names for k, v in areas[area].items()}


def pick_lang(query: str | None, cookie: str | None = None, accept_language: str | None = None) -> str:
    """?lang= first, then the learner's stored choice (cookie), then Accept-Language; Korean otherwise."""
    for choice in (query, cookie):
        if choice in LANGS:
            return choice
    for part in (accept_language or "").split(","):
        code = part.strip()[:2].lower()
        if code in LANGS:
            return code
    return DEFAULT_LANG
