"""The text the character language models learn from: everyday Korean and English prose written for
this project (school, weather, food, travel, friends, a few short stories, learning and computers).

    models/corpus/ko.txt, models/corpus/en.txt    one paragraph per line, UTF-8

The split is fixed and made of whole paragraphs: in each language, paragraph i (counting from 0) is
held out when i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1, so every tenth paragraph is kept for measuring
the loss and the rest is training text. Each part is its paragraphs in file order, Korean first, every
paragraph ending in a newline (so "\n" is the character that starts a paragraph).

The vocabulary of a model trained on it is the corpus's characters plus UNKNOWN ("\ufffd", U+FFFD),
which stands for any character outside them (models.vocab.Vocab.encode_known).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.vocab import UNKNOWN, Vocab

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LANGS = ("ko", "en")
HELD_OUT_EVERY = 10


@dataclass(frozen=True)
class CorpusSplit:
    train: str  # 9 paragraphs in 10, Korean then English
    held_out: str  # the tenth paragraphs, same order


@lru_cache
def paragraphs(lang: str) -> tuple[str, ...]:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    text = (CORPUS_DIR / f"{lang}.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line.strip())


def _joined(parts) -> str:
    return "".join(p + "\n" for p in parts)


def corpus_text(lang: str | None = None) -> str:
    """The whole corpus (both languages, Korean first), or one language of it."""
    return "".join(_joined(paragraphs(one)) for one in ((lang,) if lang else LANGS))


def _held_out(i: int) -> bool:
    return i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1


@lru_cache
def corpus_split(lang: str | None = None) -> CorpusSplit:
    """The fixed split of the whole corpus (both languages, Korean first), or of one language."""
    train, held_out = [], []
    for one in (lang,) if lang else LANGS:
        for i, p in enumerate(paragraphs(one)):
            (held_out if _held_out(i) else train).append(p)
    return CorpusSplit(_joined(train), _joined(held_out))


@lru_cache
def corpus_vocab() -> Vocab:
    """The corpus's characters plus UNKNOWN, sorted (so ids are a pure function of the corpus)."""
    return Vocab.from_text(corpus_text() + UNKNOWN)
