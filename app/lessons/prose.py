"""ko.md / en.md: one lesson's prose in one language, split into sections and rendered on the server.

    # Title                        the first line
    ## What you will see {#see}    a section; the same ids, in the same order, in both languages
    {{ figure decay }}             alone on a line: places a figure (or a question) of lesson.toml

Markdown goes through markdown-it-py's CommonMark preset (plus tables) with raw HTML off: any HTML in
the prose is shown as text, never run. Inline math is plain Unicode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

TITLE = re.compile(r"^#\s+(?P<title>\S.*?)\s*$")
SECTION = re.compile(r"^##\s+(?P<heading>\S.*?)\s*\{#(?P<id>[a-z][a-z0-9-]*)\}\s*$")
BAD_SECTION = re.compile(r"^##\s")
PLACE = re.compile(r"^\{\{\s*(?P<kind>figure|question)\s+(?P<id>[a-z][a-z0-9_-]*)\s*\}\}\s*$")
BRACES = re.compile(r"\{\{|\}\}")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class Block:
    kind: Literal["html", "figure", "question"]
    html: str = ""  # kind html: rendered Markdown
    id: str = ""  # kind figure / question: the spec's id


@dataclass(frozen=True)
class Section:
    id: str
    heading: str  # rendered inline Markdown (escaped)
    blocks: tuple[Block, ...]
    text: str  # the section's first paragraph as plain text


@dataclass(frozen=True)
class Prose:
    title: str
    sections: tuple[Section, ...]
    placed: dict[str, list[str]] = field(default_factory=dict)  # "figure"/"question" -> ids in page order

    @property
    def see(self) -> str:
        """The "what you will see" line of the lesson index."""
        return self.sections[0].text if self.sections else ""


# Plain-text math as the notes write it: h_t, h_{t−1}, σ_max, 0.8^29, (γσ)^(t−s). A subscript hangs on one
# letter that does not end a longer word, so knob names (forget_bias) and code spans stay as they are.
_SUB = re.compile(r"(?<![A-Za-z0-9_])([A-Za-zα-ωΑ-Ωŷĥ]′?)_(?:\{([^{}<>]+)\}|([A-Za-z0-9]+))")
_SUP = re.compile(r"\^(?:\(([^()<>]+)\)|([A-Za-z0-9−]+))")
_CODE = re.compile(r"(<code>.*?</code>|<[^>]+>)", re.S)


def math_html(html: str) -> str:
    """Sub- and superscripts in rendered HTML, outside code and tags."""
    def text(part: str) -> str:
        part = _SUB.sub(lambda m: f"{m[1]}<sub>{m[2] or m[3]}</sub>", part)
        return _SUP.sub(lambda m: f"<sup>{m[1] or m[2]}</sup>", part)

    return "".join(p if _CODE.fullmatch(p) else text(p) for p in _CODE.split(html))


def inline_html(text: str) -> str:
    """One line of Markdown (a question's prompt or explanation) as HTML, raw HTML escaped."""
    return math_html(_md.renderInline(text))


def _first_paragraph(markdown: str) -> str:
    tokens = _md.parse(markdown)
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and i + 1 < len(tokens) and tokens[i + 1].type == "inline":
            parts = []
            for child in tokens[i + 1].children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            return " ".join("".join(parts).split())
    return ""


def parse_prose(source: str, where: str) -> tuple[Prose | None, list[str]]:
    """(the parsed prose, errors); each error names the file and line."""
    errors: list[str] = []
    lines = source.lstrip("\ufeff").splitlines()
    if not lines or not TITLE.match(lines[0]):
        return None, [f"{where}:1: the first line must be '# Title'"]
    title = TITLE.match(lines[0])["title"]

    sections: list[tuple[str, str, list[Block], list[str]]] = []  # id, heading, blocks, markdown of the first chunk
    chunk: list[str] = []
    placed: dict[str, list[str]] = {"figure": [], "question": []}
    in_fence = False

    def flush() -> None:
        text = "\n".join(chunk).strip()
        chunk.clear()
        if text and sections:
            sections[-1][2].append(Block("html", html=math_html(_md.render(text))))
            sections[-1][3].append(text)

    for number, line in enumerate(lines[1:], start=2):
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence or FENCE.match(line):
            chunk.append(line)
            continue
        if heading := SECTION.match(line):
            flush()
            sections.append((heading["id"], math_html(_md.renderInline(heading["heading"])), [], []))
            continue
        if BAD_SECTION.match(line):
            errors.append(f"{where}:{number}: a section heading needs an id: '## Heading {{#id}}'")
            continue
        if TITLE.match(line):
            errors.append(f"{where}:{number}: only the first line may be a '# Title'")
            continue
        if place := PLACE.match(line.strip()):
            if not sections:
                errors.append(f"{where}:{number}: {{{{ {place['kind']} {place['id']} }}}} before the first section")
                continue
            flush()
            sections[-1][2].append(Block(place["kind"], id=place["id"]))
            placed[place["kind"]].append(place["id"])
            continue
        if BRACES.search(line):
            errors.append(f"{where}:{number}: not a placement: {line.strip()!r} "
                          "(write '{{ figure ID }}' or '{{ question ID }}' alone on a line)")
            continue
        if not sections and line.strip():
            errors.append(f"{where}:{number}: text before the first section ('## What you will see {{#see}}')")
            continue
        chunk.append(line)
    flush()

    if not sections:
        errors.append(f"{where}: no sections ('## Heading {{#id}}')")
    else:
        ids = [s[0] for s in sections]
        if ids[0] != "see":
            errors.append(f"{where}: the first section must be {{#see}} (what you will see), not {{#{ids[0]}}}")
        if ids[-1] != "summary":
            errors.append(f"{where}: the last section must be {{#summary}}, not {{#{ids[-1]}}}")
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            errors.append(f"{where}: section ids used twice: {repeated}")
        if not sections[0][3]:
            errors.append(f"{where}: the {{#see}} section has no text")
    for kind, ids in placed.items():
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            errors.append(f"{where}: {kind}s placed twice: {repeated}")
    prose = Prose(
        title=title,
        sections=tuple(Section(i, h, tuple(b), _first_paragraph(md[0]) if md else "") for i, h, b, md in sections),
        placed=placed,
    )
    return prose, errors
