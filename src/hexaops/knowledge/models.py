"""Tables of the knowledge engine: documents, their chunks (pgvector + full-text), incidents.

A document with `org` NULL is public (the packaged runbooks); one with an org is that
organization's private knowledge. Chunks repeat their document's org and topic so a filtered
search needs no join. Incidents always belong to one organization.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hexaops.platform.db.models import Base, utcnow

EMBEDDING_DIMENSIONS = 384


class KnowledgeDocument(Base):
    """One ingested file; `content_hash` decides whether a re-ingest rewrites it."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (
        UniqueConstraint("source", "path", "org", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))  # the ingested root, e.g. "hexaops:corpus"
    path: Mapped[str] = mapped_column(String(500))  # relative to the root, '/'-separated
    org: Mapped[str | None] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(80))
    tags: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    embedder: Mapped[str] = mapped_column(String(120))
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeChunk(Base):
    """A section of a document (or a part of a long one) with its embedding and lexemes."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "chunk_key"),
        Index(
            "ix_knowledge_chunks_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_knowledge_chunks_search", "search", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    chunk_key: Mapped[str] = mapped_column(String(800))  # path#heading/path:ordinal
    org: Mapped[str | None] = mapped_column(String(20), index=True)
    topic: Mapped[str] = mapped_column(String(80), index=True)
    section: Mapped[str] = mapped_column(Text)  # heading path joined with " > "
    heading: Mapped[str] = mapped_column(Text)
    line_start: Mapped[int] = mapped_column(Integer)
    line_end: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    # Headings weigh more than body text in the full-text rank.
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(section, '')), 'A') || "
            "to_tsvector('english', coalesce(content, ''))",
            persisted=True,
        ),
    )


class Incident(Base):
    """A past incident of one organization: what was seen, why, what was done, how it went."""

    __tablename__ = "knowledge_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[str] = mapped_column(String(20), index=True)
    workspace: Mapped[str | None] = mapped_column(String(39))
    title: Mapped[str] = mapped_column(String(300))
    symptoms: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    mitigation: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))  # resolved|mitigated|failed|unknown
    time_to_resolve_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    feedback_score: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(120), default="")  # e.g. "remediation:action/42"
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedder: Mapped[str] = mapped_column(String(120))
