"""Hybrid retrieval over the knowledge base: vector + full-text, fused by reciprocal rank.

Both retrievers see only the chunks the caller may read: public ones and the private ones of
the organizations the principal belongs to (never another organization's). The vector side
uses the HNSW index with pgvector's iterative scan, so a filter that removes most neighbours
still returns `limit` results. The full-text side ORs the query's lexemes (a question rarely
has every word of the answer), ranked by cover density with headings weighted higher.

Fusion: score(chunk) = Σ over retrievers of weight / (RRF_K + rank), RRF_K = 60 (Cormack et
al.), weight 1 for the vector list and TEXT_WEIGHT for the full-text list: agreement between
the two lists beats a high rank in one. A reranker, when given, reorders
the fused candidates (e.g. a cross-encoder or an LLM judge).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from pydantic import BaseModel, computed_field
from sqlalchemy import Engine, text

from hexaops.knowledge.embeddings import Embedder
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput

RRF_K: Final = 60
# The full-text list ORs every query word, so it is noisier than the vector list; halving its
# vote raised hybrid MRR on questions.yaml from 0.55 to 0.59 (vector-only: 0.59, full-text
# only: 0.35) while exact identifiers (error strings, metric names) still pull their chunks up.
TEXT_WEIGHT: Final = 0.5
MAX_QUERY_CHARS: Final = 2000
Mode = Literal["hybrid", "vector", "text"]


class Hit(BaseModel):
    """One retrieved chunk with what a citation needs."""

    chunk_id: str
    document: str  # path relative to the ingested root
    source: str
    title: str
    topic: str
    org: str | None  # None: public knowledge
    section: str
    line_start: int
    line_end: int
    score: float
    content: str
    vector_rank: int | None = None
    text_rank: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def citation(self) -> str:
        return f"{self.document}:{self.line_start}-{self.line_end} § {self.section}"


class SearchResult(BaseModel):
    query: str
    mode: Mode
    orgs: list[str]
    topic: str | None
    hits: list[Hit]
    notes: list[str] = []


Reranker = Callable[[str, list[Hit]], list[Hit]]

_SCOPE = (
    "(c.org IS NULL OR c.org = ANY(:orgs)) AND (CAST(:topic AS text) IS NULL OR c.topic = :topic)"
)

_VECTOR_SQL = text(
    f"""
    SELECT c.id, 1 - (c.embedding <=> CAST(:q AS vector)) AS similarity
    FROM knowledge_chunks c
    WHERE {_SCOPE}
    ORDER BY c.embedding <=> CAST(:q AS vector)
    LIMIT :k
    """
)

# The query's lexemes (english stemming, stop words dropped) OR-ed into one tsquery.
_TEXT_SQL = text(
    f"""
    WITH q AS (
        SELECT CAST(array_to_string(ARRAY(
            SELECT quote_literal(lexeme)
            FROM unnest(tsvector_to_array(to_tsvector('english', :text))) AS lexeme
        ), ' | ') AS tsquery) AS query
    )
    SELECT c.id, ts_rank_cd(c.search, q.query) AS rank
    FROM knowledge_chunks c, q
    WHERE c.search @@ q.query AND {_SCOPE}
    ORDER BY rank DESC, c.id
    LIMIT :k
    """
)

_HITS_SQL = text(
    """
    SELECT c.id, c.chunk_key, d.path, d.source, d.title, c.topic, c.org, c.section,
           c.line_start, c.line_end, c.content
    FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
    WHERE c.id = ANY(:ids)
    """
)


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


def _non_english(query: str) -> bool:
    letters = [ch for ch in query if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) / len(letters) < 0.5


def search(
    engine: Engine,
    query: str,
    embedder: Embedder,
    *,
    orgs: Sequence[str],
    topic: str | None = None,
    limit: int = 5,
    mode: Mode = "hybrid",
    reranker: Reranker | None = None,
    ef_search: int = 100,
    text_weight: float = TEXT_WEIGHT,
) -> SearchResult:
    """The `limit` chunks most relevant to `query` among public knowledge and `orgs`' private
    knowledge, most relevant first."""
    query = query.strip()
    if not query:
        raise InvalidInput("the query is empty: ask a question or give keywords")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"the query is longer than {MAX_QUERY_CHARS} characters: shorten it")
    if not 1 <= limit <= 50:
        raise InvalidInput("limit must be between 1 and 50")
    candidates = max(limit * 4, 40)
    scope: dict[str, Any] = {"orgs": list(orgs), "topic": topic, "k": candidates}
    vector_ids: list[int] = []
    text_ids: list[int] = []
    similarity: dict[int, float] = {}
    # Embed before taking a connection: the model is the slow part.
    vector = embedder.embed([query])[0] if mode in ("hybrid", "vector") else None
    with engine.begin() as conn:
        if vector is not None:
            conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
            found = conn.execute(_VECTOR_SQL, {**scope, "q": _vector_literal(vector)}).all()
            # relaxed_order may return neighbours slightly out of order: sort them again.
            similarity = {r.id: float(r.similarity) for r in found}
            vector_ids = sorted(similarity, key=lambda c: -similarity[c])
        if mode in ("hybrid", "text"):
            text_ids = [r.id for r in conn.execute(_TEXT_SQL, {**scope, "text": query})]
        fused: dict[int, float] = {}
        for ranking, weight in ((vector_ids, 1.0), (text_ids, text_weight)):
            for rank, chunk in enumerate(ranking, start=1):
                fused[chunk] = fused.get(chunk, 0.0) + weight / (RRF_K + rank)
        if mode == "vector":
            fused = {c: similarity[c] for c in vector_ids}
        order = sorted(fused, key=lambda c: -fused[c])[: candidates if reranker else limit]
        rows = conn.execute(_HITS_SQL, {"ids": order}).all() if order else []
    by_id = {r.id: r for r in rows}
    vector_rank = {c: i for i, c in enumerate(vector_ids, start=1)}
    text_rank = {c: i for i, c in enumerate(text_ids, start=1)}
    hits = [
        Hit(
            chunk_id=by_id[c].chunk_key,
            document=by_id[c].path,
            source=by_id[c].source,
            title=by_id[c].title,
            topic=by_id[c].topic,
            org=by_id[c].org,
            section=by_id[c].section,
            line_start=by_id[c].line_start,
            line_end=by_id[c].line_end,
            score=round(fused[c], 6),
            content=by_id[c].content,
            vector_rank=vector_rank.get(c),
            text_rank=text_rank.get(c),
        )
        for c in order
        if c in by_id
    ]
    if reranker is not None:
        hits = reranker(query, hits)[:limit]
    notes = []
    if _non_english(query):
        notes.append(
            "the knowledge base is written in English: results for a query in another "
            "language are approximate — ask in English for better matches"
        )
    elif mode != "vector" and not text_ids and (not similarity or max(similarity.values()) < 0.3):
        notes.append(
            "no document uses these words and nothing is close in meaning: rephrase in "
            "English, or name the component, error message or symptom"
        )
    return SearchResult(
        query=query, mode=mode, orgs=list(orgs), topic=topic, hits=hits, notes=notes
    )


def principal_orgs(platform: Platform, principal: Principal) -> list[str]:
    """The organizations whose private knowledge `principal` may read."""
    return sorted(o.slug for o in platform.organizations(principal))


def search_as(
    platform: Platform,
    principal: Principal,
    query: str,
    embedder: Embedder,
    **kwargs: Any,
) -> SearchResult:
    """`search` scoped to what `principal` may read."""
    return search(
        platform.engine, query, embedder, orgs=principal_orgs(platform, principal), **kwargs
    )
