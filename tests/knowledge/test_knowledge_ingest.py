"""Ingesting documents: incremental by content hash, atomic per document, bad input reported."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from knowledge_support import CERTS, embedder, public_docs, write_docs
from sqlalchemy import select
from sqlalchemy.orm import Session

from hexaops.knowledge import ingest as ingest_module
from hexaops.knowledge.embeddings import Vectors
from hexaops.knowledge.ingest import ingest
from hexaops.knowledge.models import KnowledgeChunk, KnowledgeDocument
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput, NotFound


def _chunks(platform: Platform) -> dict[str, tuple[int, str]]:
    """chunk key → (row id, content)"""
    with Session(platform.engine) as s:
        return {c.chunk_key: (c.id, c.content) for c in s.scalars(select(KnowledgeChunk))}


def test_reingest_skips_unchanged_replaces_changed_and_deletes_removed(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    seen: list[tuple[int, int, str]] = []
    first = ingest(platform.engine, root, embedder(), progress=lambda *a: seen.append(a))
    assert sorted(first.added) == [
        "kubernetes/crashloop.md",
        "platform/quota.md",
        "security/certs.md",
    ]
    assert first.chunks_written == 7
    assert [(d, t) for d, t, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    before = _chunks(platform)

    again = ingest(platform.engine, root, embedder())
    assert (again.added, again.updated, again.chunks_written) == ([], [], 0)
    assert len(again.unchanged) == 3
    assert _chunks(platform) == before  # nothing rewritten: same rows

    (root / "security/certs.md").write_text(CERTS.replace("cmctl renew", "cmctl renew --all"))
    (root / "platform/quota.md").unlink()
    changed = ingest(platform.engine, root, embedder())
    assert changed.updated == ["security/certs.md"]
    assert changed.removed == ["platform/quota.md"]
    assert changed.unchanged == ["kubernetes/crashloop.md"]
    after = _chunks(platform)
    assert not any(k.startswith("platform/quota.md") for k in after)
    renew = after["security/certs.md#expired-tls-certificates/renew:0"][1]
    assert "--all" in renew
    crash = {k: v for k, v in after.items() if k.startswith("kubernetes/")}
    assert crash == {k: v for k, v in before.items() if k.startswith("kubernetes/")}


def test_public_and_private_copies_of_a_root_are_separate_documents(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    ingest(platform.engine, root, embedder())
    private = ingest(platform.engine, root, embedder(), org="acme")
    assert len(private.added) == 3  # the public copy does not make acme's copy "unchanged"
    with Session(platform.engine) as s:
        orgs = sorted({str(d.org) for d in s.scalars(select(KnowledgeDocument))})
    assert orgs == ["None", "acme"]


def test_bad_files_are_skipped_with_a_reason_and_the_rest_ingested(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_docs(
        tmp_path, {"good.md": CERTS, "empty.md": "  \n\n", "front-only.md": "---\ntitle: t\n---\n"}
    )
    (root / "binary.md").write_bytes(b"\x89PNG\r\n\x00\x00binary")
    (root / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    monkeypatch.setattr(ingest_module, "MAX_DOCUMENT_BYTES", 2000)
    (root / "huge.md").write_text("# Huge\n\n" + "x" * 3000)
    (root / "image.png").write_bytes(b"\x89PNG")  # not a document suffix: ignored
    report = ingest(platform.engine, root, embedder())
    assert report.added == ["good.md"]
    assert report.skipped == {
        "binary.md": "binary file, not text",
        "empty.md": "empty document",
        "front-only.md": "the document has no text",
        "huge.md": "too large (3,008 bytes; the cap is 2,000): split it",
        "latin1.txt": "not UTF-8 text",
    }


def test_a_failure_while_replacing_a_document_keeps_the_old_version(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    ingest(platform.engine, root, embedder())
    before = _chunks(platform)

    class Broken:
        name = embedder().name

        def embed(self, texts: list[str]) -> Vectors:  # one vector short: the insert fails
            return np.zeros((len(texts) - 1, 384), dtype=np.float32)

    (root / "security/certs.md").write_text(CERTS + "\n## More\n\nNew section.\n")
    with pytest.raises(ValueError, match="zip"):
        ingest(platform.engine, root, Broken())
    assert _chunks(platform) == before


def test_unknown_org_and_missing_paths_are_refused(platform: Platform, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="organization 'initech' not found"):
        ingest(platform.engine, public_docs(tmp_path), embedder(), org="initech")
    with pytest.raises(InvalidInput, match="does not exist"):
        ingest(platform.engine, tmp_path / "nope", embedder())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="has no documents"):
        ingest(platform.engine, tmp_path / "empty", embedder())


def test_a_single_file_can_be_ingested_without_touching_its_neighbours(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    ingest(platform.engine, root / "security", embedder())
    single = ingest(platform.engine, root / "security" / "certs.md", embedder())
    assert single.unchanged == ["certs.md"]
    assert single.removed == []


def test_concurrent_ingests_of_the_same_root_leave_each_document_once(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: ingest(platform.engine, root, embedder()), range(2)))
    for report in reports:
        handled = [*report.added, *report.updated, *report.unchanged, *report.skipped]
        assert sorted(handled) == [
            "kubernetes/crashloop.md",
            "platform/quota.md",
            "security/certs.md",
        ]
    with Session(platform.engine) as s:
        assert len(s.scalars(select(KnowledgeDocument)).all()) == 3
    assert len(_chunks(platform)) == 7


def test_a_document_that_turns_bad_keeps_its_previous_version(
    platform: Platform, tmp_path: Path
) -> None:
    root = public_docs(tmp_path)
    ingest(platform.engine, root, embedder())
    (root / "security/certs.md").write_bytes(b"\x00\x01")
    report = ingest(platform.engine, root, embedder())
    assert report.skipped == {
        "security/certs.md": "binary file, not text (its previously ingested version is kept)"
    }
    assert report.removed == []
    assert any(k.startswith("security/certs.md#") for k in _chunks(platform))
