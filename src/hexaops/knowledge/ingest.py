"""Ingest a directory (or one file) of Markdown and text documents into the knowledge base.

Re-ingesting is incremental: a document whose bytes (and embedding model) are unchanged is
skipped; a changed one is replaced in one transaction (old chunks out, new ones in — a reader
never sees half a document); documents gone from a re-ingested directory are deleted. Files
that cannot be ingested (binary, not UTF-8, empty, over the size cap, bad front matter) are
reported as skipped with the reason, and the rest of the directory goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hexaops.knowledge.chunking import DocumentError, ParsedDocument, parse_document
from hexaops.knowledge.embeddings import Embedder, Vectors
from hexaops.knowledge.models import KnowledgeChunk, KnowledgeDocument
from hexaops.platform.db.models import Organization
from hexaops.platform.errors import InvalidInput, NotFound

MAX_DOCUMENT_BYTES: Final = 1_000_000
SUFFIXES: Final = (".md", ".markdown", ".txt")
CORPUS_DIR: Final = Path(__file__).with_name("corpus")
CORPUS_SOURCE: Final = "hexaops:corpus"

# progress(done, total, path): called after each document is handled.
Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    source: str
    org: str | None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path → why
    chunks_written: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped ({self.chunks_written} chunks written)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "org": self.org,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": self.skipped,
            "chunks_written": self.chunks_written,
        }


def _files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, file) of the documents under `root`, hidden files excluded."""
    if root.is_file():
        return [(root.name, root)]
    found = []
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not file.is_file():
            continue
        if file.suffix.lower() in SUFFIXES:
            found.append((rel.as_posix(), file))
    return found


def read_text(file: Path) -> tuple[bytes, str]:
    """The file's bytes and text, or DocumentError saying why it cannot be ingested."""
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"too large ({size:,} bytes; the cap is {MAX_DOCUMENT_BYTES:,}): split it"
            )
        data = file.read_bytes()
    except OSError as exc:
        raise DocumentError(f"unreadable: {exc.strerror or exc}") from None
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("not UTF-8 text") from None
    if not text.strip():
        raise DocumentError("empty document")
    return data, text


def _check_org(session: Session, org: str | None) -> None:
    if (
        org is not None
        and session.scalar(select(Organization.id).where(Organization.slug == org)) is None
    ):
        raise NotFound(f"organization {org!r} not found")


def ingest(
    engine: Engine,
    root: Path,
    embedder: Embedder,
    *,
    org: str | None = None,
    source: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest `root` (a directory or one file) as public knowledge, or as `org`'s private
    knowledge. `source` names the root (default: its absolute path); re-ingesting the same
    source and org updates it in place."""
    if not root.exists():
        raise InvalidInput(f"{root} does not exist")
    resolved = root.resolve()
    source = source or str(resolved if resolved.is_dir() else resolved.parent)
    files = _files(resolved)
    if resolved.is_dir() and not files:
        raise InvalidInput(f"{root} has no documents ({', '.join(SUFFIXES)})")
    report = IngestReport(source=source, org=org)
    with Session(engine) as session:
        _check_org(session, org)
        known = {
            d.path: (d.id, d.content_hash)
            for d in session.scalars(
                select(KnowledgeDocument).where(
                    KnowledgeDocument.source == source,
                    KnowledgeDocument.org.is_(None)
                    if org is None
                    else KnowledgeDocument.org == org,
                )
            )
        }
    for done, (path, file) in enumerate(files, start=1):
        _ingest_file(engine, embedder, report, known, path, file)
        if progress is not None:
            progress(done, len(files), path)
    if resolved.is_dir():
        seen = {path for path, _ in files}
        gone = sorted(set(known) - seen)
        if gone:
            with Session(engine) as session, session.begin():
                session.execute(
                    delete(KnowledgeDocument).where(
                        KnowledgeDocument.id.in_([known[p][0] for p in gone])
                    )
                )
            report.removed = gone
    return report


def _ingest_file(
    engine: Engine,
    embedder: Embedder,
    report: IngestReport,
    known: dict[str, tuple[int, str]],
    path: str,
    file: Path,
) -> None:
    try:
        data, text = read_text(file)
        parsed = parse_document(path, text)
    except DocumentError as exc:
        kept = " (its previously ingested version is kept)" if path in known else ""
        report.skipped[path] = f"{exc}{kept}"
        return
    digest = hashlib.sha256(embedder.name.encode() + b"\0" + data).hexdigest()
    previous = known.get(path)
    if previous is not None and previous[1] == digest:
        report.unchanged.append(path)
        return
    # Embed before opening the transaction: it is the slow part and needs no lock.
    vectors = embedder.embed([_embedding_text(parsed, i) for i in range(len(parsed.chunks))])
    try:
        _replace(engine, embedder, report, previous, parsed, digest, len(data), vectors)
    except IntegrityError:  # another ingest wrote the same document first: nothing half-done
        report.skipped[path] = "ingested concurrently by another process: run ingest again"
        return
    (report.updated if previous is not None else report.added).append(path)
    report.chunks_written += len(parsed.chunks)


def _replace(
    engine: Engine,
    embedder: Embedder,
    report: IngestReport,
    previous: tuple[int, str] | None,
    parsed: ParsedDocument,
    digest: str,
    size: int,
    vectors: Vectors,
) -> None:
    """Swap a document's old chunks for new ones in one transaction."""
    with Session(engine) as session, session.begin():
        if previous is not None:
            session.execute(delete(KnowledgeDocument).where(KnowledgeDocument.id == previous[0]))
        document = KnowledgeDocument(
            source=report.source,
            path=parsed.path,
            org=report.org,
            title=parsed.title[:300],
            topic=parsed.topic[:80],
            tags=parsed.tags,
            content_hash=digest,
            size_bytes=size,
            embedder=embedder.name,
        )
        session.add(document)
        session.flush()
        session.add_all(
            KnowledgeChunk(
                document_id=document.id,
                chunk_key=chunk.key,
                org=report.org,
                topic=document.topic,
                section=chunk.section_text,
                heading=chunk.heading,
                line_start=chunk.line_start,
                line_end=chunk.line_end,
                content=chunk.content,
                embedding=vector,
            )
            for chunk, vector in zip(parsed.chunks, vectors, strict=True)
        )


def _embedding_text(doc: ParsedDocument, index: int) -> str:
    """What the model reads for a chunk: the document title and section path give a short
    section its context ("Fix" alone says little)."""
    chunk = doc.chunks[index]
    return f"{doc.title}. {chunk.section_text}.\n{chunk.content}"


def ensure_corpus(
    engine: Engine, embedder: Embedder, progress: Progress | None = None
) -> IngestReport:
    """Ingest the packaged public corpus (runbooks, platform docs); a no-op when it is current."""
    return ingest(engine, CORPUS_DIR, embedder, source=CORPUS_SOURCE, progress=progress)
