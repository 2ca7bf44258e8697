"""Hybrid retrieval: relevance, citations, tenancy, filters and odd queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from knowledge_support import ACME_SECRET, GLOBEX_SECRET, embedder, public_docs, write_docs

from hexaops.knowledge.ingest import ingest
from hexaops.knowledge.search import Hit, search, search_as
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput


@pytest.fixture
def knowledge(platform: Platform, tmp_path: Path) -> Path:
    root = public_docs(tmp_path / "public")
    ingest(platform.engine, root, embedder())
    ingest(
        platform.engine,
        write_docs(tmp_path / "acme", {"pay.md": ACME_SECRET}),
        embedder(),
        org="acme",
    )
    ingest(
        platform.engine,
        write_docs(tmp_path / "globex", {"ledger.md": GLOBEX_SECRET}),
        embedder(),
        org="globex",
    )
    return root


def test_hybrid_finds_a_paraphrase_that_keyword_search_misses(
    platform: Platform, knowledge: Path
) -> None:
    query = "application repeatedly dying shortly after launch"
    text_only = search(platform.engine, query, embedder(), orgs=[], mode="text")
    assert text_only.hits == []
    hybrid = search(platform.engine, query, embedder(), orgs=[])
    assert hybrid.hits[0].document == "kubernetes/crashloop.md"


def test_exact_terms_rank_first_and_citations_point_at_the_lines(
    platform: Platform, knowledge: Path
) -> None:
    result = search(platform.engine, "x509 certificate has expired", embedder(), orgs=[], limit=3)
    top = result.hits[0]
    assert (top.document, top.section) == (
        "security/certs.md",
        "Expired TLS certificates > Symptoms",
    )
    assert top.vector_rank is not None
    assert top.text_rank == 1
    assert top.chunk_id == "security/certs.md#expired-tls-certificates/symptoms:0"
    lines = (knowledge / top.document).read_text().splitlines()
    cited = lines[top.line_start - 1 : top.line_end]
    assert cited[0] == "## Symptoms"
    assert "x509" in cited[-1]
    assert top.citation == f"security/certs.md:{top.line_start}-{top.line_end} § {top.section}"
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_members_see_public_and_their_org_private_docs_never_another_orgs(
    platform: Platform, knowledge: Path, dev: Principal
) -> None:
    def documents(principal: Principal, query: str) -> set[str]:
        hits = search_as(platform, principal, query, embedder(), limit=10).hits
        return {h.document for h in hits}

    assert "pay.md" in documents(dev, "rotate the payment gateway key")
    assert "ledger.md" not in documents(dev, "globex ledger walrus procedure on ledger-7")
    globex = platform.user("owner@globex.example")
    assert "ledger.md" in documents(globex, "globex ledger walrus procedure")
    assert "pay.md" not in documents(globex, "acme payment gateway zebra-key vault")
    for mode in ("vector", "text"):
        hits = search(platform.engine, "zebra-key walrus", embedder(), orgs=[], mode=mode).hits  # type: ignore[arg-type]
        assert all(h.org is None for h in hits)


def test_topic_filter_and_reranker_hook(platform: Platform, knowledge: Path) -> None:
    result = search(platform.engine, "how do I fix it", embedder(), orgs=[], topic="platform")
    assert {h.topic for h in result.hits} == {"platform"}

    def reverse(query: str, hits: list[Hit]) -> list[Hit]:
        return list(reversed(hits))

    plain = search(platform.engine, "certificate", embedder(), orgs=[], limit=50)
    reranked = search(
        platform.engine, "certificate", embedder(), orgs=[], limit=50, reranker=reverse
    )
    assert [h.chunk_id for h in reranked.hits] == [h.chunk_id for h in reversed(plain.hits)]


def test_odd_queries_get_clear_answers(platform: Platform, knowledge: Path) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        search(platform.engine, "   ", embedder(), orgs=[])
    with pytest.raises(InvalidInput, match="longer than"):
        search(platform.engine, "x" * 3000, embedder(), orgs=[])
    foreign = search(platform.engine, "ポッドが再起動を繰り返す", embedder(), orgs=[])
    assert "written in English" in foreign.notes[0]
    nonsense = search(platform.engine, "qwzx vbnm", embedder(), orgs=[])
    assert nonsense.notes
    assert "rephrase" in nonsense.notes[0]
