"""Splitting documents into citable sections."""

from __future__ import annotations

import pytest
from knowledge_support import CRASHLOOP

from hexaops.knowledge.chunking import MAX_CHUNK_CHARS, DocumentError, parse_document


def test_sections_follow_headings_with_paths_and_stable_keys() -> None:
    doc = parse_document("kubernetes/crashloop.md", CRASHLOOP)
    assert (doc.title, doc.topic, doc.tags) == (
        "Pods in CrashLoopBackOff",
        "kubernetes",
        ["pods", "crashloop"],
    )
    assert [c.section_text for c in doc.chunks] == [
        "Pods in CrashLoopBackOff",
        "Pods in CrashLoopBackOff > Diagnose",
        "Pods in CrashLoopBackOff > Mitigate",
    ]
    assert doc.chunks[1].key == "kubernetes/crashloop.md#pods-in-crashloopbackoff/diagnose:0"


def test_line_ranges_point_at_the_cited_lines_of_the_file() -> None:
    lines = CRASHLOOP.splitlines()
    for chunk in parse_document("crashloop.md", CRASHLOOP).chunks:
        cited = "\n".join(lines[chunk.line_start - 1 : chunk.line_end])
        assert cited.strip() == chunk.content
        assert lines[chunk.line_start - 1].startswith("#")  # each section starts at its heading


def test_code_fences_hide_headings_and_long_sections_split_at_paragraphs() -> None:
    paragraph = "word " * 100
    text = "# Guide\n\n```sh\n# not a heading\nls\n```\n\n" + "\n\n".join([paragraph] * 8)
    doc = parse_document("guide.md", text)
    assert all(c.section == ("Guide",) for c in doc.chunks)
    assert len(doc.chunks) > 1
    assert [c.ordinal for c in doc.chunks] == list(range(len(doc.chunks)))
    assert all(len(c.content) <= MAX_CHUNK_CHARS for c in doc.chunks)
    assert "# not a heading" in doc.chunks[0].content


def test_plain_text_has_no_headings_and_takes_its_title_from_the_name() -> None:
    doc = parse_document("notes/on-call-tips.txt", "# not markdown\n\nRestart politely.\n")
    assert doc.title == "on call tips"
    assert doc.topic == "notes"
    assert len(doc.chunks) == 1
    assert doc.chunks[0].line_start == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: x\n---\n\n", "no text"),
        ("---\ntitle: [unclosed\n---\nbody\n", "invalid YAML front matter"),
        ("---\ntitle: x\nbody without end\n", "never ends"),
        ("---\n- a list\n---\nbody\n", "must be a YAML mapping"),
    ],
)
def test_documents_that_cannot_be_chunked_say_why(text: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_document("bad.md", text)
