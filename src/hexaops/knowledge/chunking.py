"""Split a Markdown (or plain-text) document into sections a search can cite.

Every `#`…`######` heading outside a fenced code block starts a section; a section's path is
its heading and the headings above it. A section longer than `MAX_CHUNK_CHARS` (about what
the embedding model reads: 256 word pieces) is cut at paragraph breaks. Each chunk keeps the
1-based, inclusive line range it came from in the original file (front matter counted), so a
citation points at the lines a person opens.

Chunk keys are `path#heading/path:ordinal` — stable while the section keeps its headings, so a
citation stays valid when other sections change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Final

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs

MAX_CHUNK_CHARS: Final = 1200
_HEADING: Final = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE: Final = re.compile(r"^\s*(```|~~~)")
_SLUG: Final = re.compile(r"[^a-z0-9]+")


class DocumentError(ValueError):
    """The document cannot be ingested (its message says why)."""


@dataclass(frozen=True)
class Chunk:
    key: str
    heading: str
    section: tuple[str, ...]  # heading path, outermost first
    ordinal: int  # position among the chunks of the same heading path
    line_start: int
    line_end: int
    content: str

    @property
    def section_text(self) -> str:
        return " > ".join(self.section)


@dataclass
class ParsedDocument:
    path: str
    title: str
    topic: str
    tags: list[str]
    chunks: list[Chunk] = field(default_factory=list)


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "section"


def _front_matter(lines: list[str]) -> tuple[dict[str, Any], int]:
    """The YAML front matter and the number of lines it takes (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                raise DocumentError(f"invalid YAML front matter: {exc}") from None
            if not isinstance(meta, dict):
                raise DocumentError("front matter must be a YAML mapping (title:, topic:, tags:)")
            return meta, end + 1
    raise DocumentError("front matter starts with '---' but never ends")


def _blocks(body: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Paragraphs: runs of non-blank lines (a fenced code block stays one paragraph)."""
    blocks: list[list[tuple[int, str]]] = [[]]
    in_fence = False
    for number, line in body:
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append((number, line))
    return [b for b in blocks if b]


def _pieces(body: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Pack a section's paragraphs into pieces of at most MAX_CHUNK_CHARS (a longer single
    paragraph stays whole rather than being cut mid-sentence): (first line, last line, text)."""
    pieces: list[tuple[int, int, str]] = []
    current: list[list[tuple[int, str]]] = []
    size = 0
    for block in _blocks(body):
        block_size = sum(len(t) + 1 for _, t in block)
        if current and size + block_size > MAX_CHUNK_CHARS:
            pieces.append(_piece(current))
            current, size = [], 0
        current.append(block)
        size += block_size + 1
    if current:
        pieces.append(_piece(current))
    return pieces


def _piece(blocks: list[list[tuple[int, str]]]) -> tuple[int, int, str]:
    text = "\n\n".join("\n".join(t for _, t in block) for block in blocks)
    return blocks[0][0][0], blocks[-1][-1][0], text.strip()


def parse_document(path: str, text: str) -> ParsedDocument:
    """Parse `text` (the file at relative `path`): front matter, then sections as chunks."""
    lines = text.splitlines()
    meta, skip = _front_matter(lines)
    is_markdown = PurePosixPath(path).suffix.lower() in (".md", ".markdown")
    first_h1 = next(
        (m[2] for line in lines[skip:] if (m := _HEADING.match(line)) and len(m[1]) == 1),
        None,
    )
    if not is_markdown:
        first_h1 = None
    title = str(meta.get("title") or first_h1 or PurePosixPath(path).stem.replace("-", " "))
    parent = PurePosixPath(path).parent.name
    topic = str(meta.get("topic") or parent or "general")
    raw_tags = meta.get("tags") or []
    tags = [str(t) for t in raw_tags] if isinstance(raw_tags, list) else [str(raw_tags)]
    doc = ParsedDocument(path=path, title=title, topic=topic, tags=tags)

    # Sections: (heading path, [(line number, text)]) in document order.
    sections: list[tuple[tuple[str, ...], list[tuple[int, str]]]] = [((), [])]
    stack: list[tuple[int, str]] = []  # (level, heading)
    in_fence = False
    for index in range(skip, len(lines)):
        line, number = lines[index], index + 1
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence or not is_markdown else _HEADING.match(line)
        if match:
            level = len(match[1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match[2]))
            sections.append((tuple(h for _, h in stack), [(number, line)]))
        else:
            sections[-1][1].append((number, line))

    ordinals: dict[tuple[str, ...], int] = {}
    for heading_path, body in sections:
        has_text = any(t.strip() and not _HEADING.match(t) for _, t in body) if body else False
        if not has_text:
            continue  # a heading directly followed by a sub-heading: it lives on in the path
        section = heading_path or (title,)
        for start, end, content in _pieces(body):
            ordinal = ordinals.get(section, 0)
            ordinals[section] = ordinal + 1
            key = f"{path}#{'/'.join(slug(h) for h in section)}:{ordinal}"
            doc.chunks.append(Chunk(key, section[-1], section, ordinal, start, end, content))
    if not doc.chunks:
        raise DocumentError("the document has no text")
    return doc
