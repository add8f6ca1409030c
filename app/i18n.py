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


@lru_cache
def load_strings(lang: str) -> dict[str, str]:
    """All strings of one language; a key defined in two area files is a bug, so it raises."""
    table: dict[str, str] = {}
    for path in sorted((I18N_DIR / lang).glob("*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        clash = table.keys() & part.keys()
        if clash:
            raise ValueError(f"{path}: keys defined twice: {sorted(clash)}")
        table |= part
    return table


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
