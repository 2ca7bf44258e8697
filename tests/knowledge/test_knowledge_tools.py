"""The knowledge tools through the tool contract, as seeded principals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from knowledge_support import GLOBEX_SECRET, embedder, public_docs, write_docs

import hexaops.tools.knowledge  # noqa: F401  (registers the tools)
from hexaops.knowledge.incidents import record_incident
from hexaops.knowledge.ingest import ingest
from hexaops.platform.core import Platform
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import REGISTRY, run_tool


def test_tools_are_registered_in_the_knowledge_toolset() -> None:
    for name in ("knowledge_search", "knowledge_similar_incidents"):
        assert REGISTRY[name].toolset == "knowledge"
        assert not REGISTRY[name].writes


def test_knowledge_search_cites_documents_and_hides_other_orgs(
    platform: Platform, tool_context: Callable[..., ToolContext], tmp_path: Path
) -> None:
    ingest(platform.engine, public_docs(tmp_path / "pub"), embedder())
    ingest(
        platform.engine,
        write_docs(tmp_path / "gx", {"ledger.md": GLOBEX_SECRET}),
        embedder(),
        org="globex",
    )
    ctx = tool_context("dev@acme.example")
    result = run_tool(ctx, "knowledge_search", {"query": "container exit code 137 OOMKilled"})
    assert result.status == "ok", result.summary
    first = result.data[0]
    assert first["document"] == "kubernetes/crashloop.md"
    assert first["citation"].startswith("kubernetes/crashloop.md:")
    assert result.evidence[0].kind == "document"
    assert result.evidence[0].objects[0].startswith("kubernetes/crashloop.md:")

    hidden = run_tool(ctx, "knowledge_search", {"query": "walrus procedure ledger-7", "limit": 20})
    assert all(d["document"] != "ledger.md" for d in hidden.data or [])
    bad = run_tool(ctx, "knowledge_search", {"query": ""})
    assert bad.status == "error"


def test_similar_incidents_tool(
    platform: Platform, tool_context: Callable[..., ToolContext]
) -> None:
    ctx = tool_context("dev@acme.example")
    empty = run_tool(
        ctx, "knowledge_similar_incidents", {"description": "disk full on the database"}
    )
    assert empty.status == "empty"
    past = record_incident(
        platform.engine,
        embedder(),
        org="acme",
        title="Postgres volume full",
        symptoms="database writes fail: no space left on device",
        mitigation="expanded the PVC to 20Gi",
        outcome="resolved",
    )
    result = run_tool(
        ctx, "knowledge_similar_incidents", {"description": "disk full on the database"}
    )
    assert result.status == "ok"
    assert result.data[0]["id"] == past.id
    assert result.data[0]["mitigation"] == "expanded the PVC to 20Gi"
    both = run_tool(
        ctx, "knowledge_similar_incidents", {"incident_id": past.id, "description": "x"}
    )
    assert both.status == "error"
    assert "exactly one" in both.summary
    foreign = run_tool(
        tool_context("owner@globex.example"),
        "knowledge_similar_incidents",
        {"incident_id": past.id},
    )
    assert foreign.status == "error"
    assert foreign.error_code == "not_found"
