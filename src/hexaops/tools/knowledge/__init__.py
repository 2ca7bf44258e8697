"""Knowledge tools: runbook and documentation search, and the incident memory.

Both read only what the principal may see: public documents plus their organizations'
private documents and incidents.
"""

from __future__ import annotations

from pydantic import Field

from hexaops.knowledge.embeddings import Embedder, embedder_from_settings
from hexaops.knowledge.incidents import similar_incidents
from hexaops.knowledge.search import search_as
from hexaops.platform.errors import InvalidInput
from hexaops.tools.args import ToolArgs
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Evidence, Outcome, tool

_EXCERPT_CHARS = 700


def _embedder(ctx: ToolContext) -> Embedder:
    # The offline model is a process-wide singleton: the context must not close it.
    owned = ctx.settings.embeddings != "offline"
    return ctx.resource("embedder", lambda: embedder_from_settings(ctx.settings), owned=owned)


class SearchArgs(ToolArgs):
    query: str = Field(
        description="What to look up: a question, an error message or symptom keywords.",
        min_length=1,
        max_length=2000,
    )
    topic: str | None = Field(
        default=None, description="Only documents of this topic (e.g. kubernetes, platform)."
    )
    limit: int = Field(default=5, ge=1, le=20, description="How many passages to return.")


@tool("knowledge_search", "knowledge")
def knowledge_search(ctx: ToolContext, args: SearchArgs) -> Outcome:
    """Search the runbooks and platform documentation (public, plus your organization's
    private documents) for passages that answer a question or match a symptom. Use it to find
    how to diagnose or fix a problem, what a platform feature does, or the procedure for an
    operation. Each result cites document, section and line range: cite them in answers."""
    result = search_as(
        ctx.platform,
        ctx.principal,
        args.query,
        _embedder(ctx),
        topic=args.topic,
        limit=args.limit,
    )
    scope = "public docs" + (f" and {', '.join(result.orgs)} private docs" if result.orgs else "")
    evidence = [
        Evidence(
            kind="document",
            backend="knowledge",
            query=args.query + (f" (topic {args.topic})" if args.topic else ""),
            objects=[f"{h.document}:{h.line_start}-{h.line_end}#{h.chunk_id}" for h in result.hits],
        )
    ]
    if not result.hits:
        summary = f"no passage in {scope} matches {args.query!r}"
        if result.notes:
            summary += f"; {result.notes[0]}"
        return Outcome(summary, [], evidence, empty=True)
    data = [
        {
            "citation": h.citation,
            "document": h.document,
            "title": h.title,
            "section": h.section,
            "lines": [h.line_start, h.line_end],
            "chunk_id": h.chunk_id,
            "org": h.org,
            "score": h.score,
            "text": h.content[:_EXCERPT_CHARS],
        }
        for h in result.hits
    ]
    top = result.hits[0]
    summary = f"{len(result.hits)} passages from {scope}; best: {top.title} § {top.section}"
    if result.notes:
        summary += f" (note: {result.notes[0]})"
    return Outcome(summary, data, evidence)


class SimilarIncidentsArgs(ToolArgs):
    incident_id: int | None = Field(
        default=None, description="A recorded incident to find look-alikes of."
    )
    description: str | None = Field(
        default=None,
        description="Or: the symptoms of the current problem in words (what is failing, errors).",
        max_length=4000,
    )
    org: str | None = Field(default=None, description="Organization slug; default: all of yours.")
    limit: int = Field(default=5, ge=1, le=20, description="How many incidents to return.")


@tool("knowledge_similar_incidents", "knowledge")
def knowledge_similar_incidents(ctx: ToolContext, args: SimilarIncidentsArgs) -> Outcome:
    """Find past incidents of your organization that looked like the current problem (by
    incident id or a description of the symptoms), with their root cause, the mitigation that
    was applied and whether it worked. Ranked by similarity, weighted toward incidents whose
    mitigation resolved them and that people rated helpful. Use it early in an investigation
    to reuse what worked before."""
    if (args.incident_id is None) == (args.description is None):
        raise InvalidInput("give exactly one of incident_id or description")
    found = similar_incidents(
        ctx.platform,
        ctx.principal,
        _embedder(ctx),
        incident_id=args.incident_id,
        description=args.description,
        org=args.org,
        limit=args.limit,
    )
    what = f"incident {args.incident_id}" if args.incident_id else repr(args.description)
    evidence = [
        Evidence(
            kind="object",
            backend="knowledge",
            query=f"incidents similar to {what}",
            objects=[f"{s.incident.org}/incident/{s.incident.id}" for s in found],
        )
    ]
    if not found:
        return Outcome(f"no past incident resembles {what}", [], evidence, empty=True)
    data = [
        {
            "id": s.incident.id,
            "org": s.incident.org,
            "workspace": s.incident.workspace,
            "title": s.incident.title,
            "symptoms": s.incident.symptoms,
            "root_cause": s.incident.root_cause,
            "mitigation": s.incident.mitigation,
            "outcome": s.incident.outcome,
            "time_to_resolve_seconds": s.incident.time_to_resolve_seconds,
            "created_at": s.incident.created_at.isoformat(),
            "score": s.score,
            "similarity": s.similarity,
        }
        for s in found
    ]
    best = found[0].incident
    summary = (
        f"{len(found)} similar past incidents; best: #{best.id} {best.title!r} "
        f"({best.outcome}; mitigation: {best.mitigation or 'none recorded'})"
    )
    return Outcome(summary, data, evidence)
