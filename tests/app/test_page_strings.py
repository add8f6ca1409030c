"""/bench embeds only the strings its scripts read (app.i18n.PAGE_AREAS): every key its modules name,
found by walking their imports from pages/bench.js and pages/bench-seq2seq.js, is in the embedded table,
and so is every key a prefix they build keys from (`choice_clip_mode_${mode}`) can make."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from app.i18n import LANGS, load_strings, page_strings

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}/[^"']+)["']""")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def module_graph(*entries: str) -> set[Path]:
    seen: set[Path] = set()
    todo = [ROOT / e for e in entries]
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        assert path.exists(), f"an import names a missing module: {path}"
        seen.add(path)
        todo += [path.parent / m.group(1) for m in IMPORT.finditer(path.read_text(encoding="utf-8"))]
    return seen


PAGES = {"bench": module_graph("static/js/pages/bench.js"),
         "bench-seq2seq": module_graph("static/js/pages/bench-seq2seq.js")}


def test_the_walk_finds_the_bench_modules():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES["bench"]}
    assert {"static/js/core/figure.js", "static/js/panels/equation.js", "static/js/rooms/bench-room.js",
            "static/js/panels/attention.js"} <= names  # dynamic imports included
    assert "static/js/sources/seq2seq.js" in {p.relative_to(ROOT).as_posix() for p in PAGES["bench-seq2seq"]}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("lang", LANGS)
def test_bench_embeds_every_key_its_scripts_read_and_no_other_area(lang, page):
    full, embedded = load_strings(lang), page_strings(lang, page)
    words = {w for p in PAGES[page] for w in WORD.findall(p.read_text(encoding="utf-8"))}
    named = {w for w in words if w in full}
    assert named, "the bench's scripts name no string at all: the walk is broken"
    assert sorted(named - embedded.keys()) == []
    built = {k for w in words if w.endswith("_") and len(w) > 3 for k in full if k.startswith(w)}
    assert sorted(built - embedded.keys()) == []
    assert not {"lab_heading", "err_invalid"} & embedded.keys()  # the lab's and the API's words stay out
    assert len(embedded) < len(full)


def test_the_bench_page_carries_the_smaller_table_unescaped(client):
    r = client.get("/bench", params={"lang": "ko"})
    m = re.search(r'<script type="application/json" id="bench-config">(.*?)</script>', r.text, re.S)
    assert m
    assert json.loads(m.group(1))["i18n"] == page_strings("ko", "bench")
    assert "\\uc" not in m.group(1)  # Korean as UTF-8, a third fewer bytes than \uXXXX escapes
    assert len(gzip.compress(r.content)) < 16_000
