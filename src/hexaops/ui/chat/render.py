"""What the browser chat shows, as Markdown and elements' content (no Chainlit here, so it is
plain to test): approval plans, sources, metric charts, incidents."""

from __future__ import annotations

import json
from typing import Any

from hexaops.agents.events import ApprovalRequested
from hexaops.knowledge.incidents import IncidentView
from hexaops.ui.chat.charts import metric_charts

HELP = (
    "Ask about your workspaces, applications and incidents. Commands: `/incidents` recent "
    "incidents · `/incident ID` one incident · `/session` this session's id · `/session ID` "
    "continue a session · `/new` a new session · `/help`."
)
CHART_TOOLS = ("metrics_workload", "metrics_promql")


def approval_text(event: ApprovalRequested) -> str:
    """The plan of a write waiting for a decision."""
    r = event.request
    action_id = r.get("action_id")
    ident = f" (action #{action_id})" if action_id is not None else ""
    lines = [
        f"**Approval needed{ident}**: `{r.get('action')}` on `{r.get('target')}` "
        f"(risk {r.get('risk')}), requested by {r.get('requested_by')}",
        "",
        f"Plan: {r.get('summary', '')}",
    ]
    for change in r.get("changes", []) or []:
        lines.append(f"- `{json.dumps(change, ensure_ascii=False)}`")
    return "\n".join(lines)


def waiting_text(event: ApprovalRequested) -> str:
    """For someone who may not decide: who can, and how."""
    r = event.request
    approvers = ", ".join(r.get("approvers", []) or []) or "an owner or admin"
    return (
        approval_text(event)
        + f"\n\nIt waits for an owner or admin of {r.get('org')} ({approvers}): they approve "
        f"it here after opening this session (`/session {event.session_id}`), or with "
        f"`hexaops platform actions approve {r.get('action_id')}`. This session continues then."
    )


def chart_images(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, SVG) of the metric series in a turn's tool results."""
    charts: list[tuple[str, str]] = []
    for result in results:
        if result.get("tool") in CHART_TOOLS and result.get("status") == "ok":
            charts.extend(metric_charts(result))
    return charts


def citation_texts(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, passage) of the knowledge passages a turn used: the name is the citation
    (document:lines § section), the body the passage with its title."""
    out: dict[str, str] = {}
    for result in results:
        if result.get("tool") != "knowledge_search" or not isinstance(result.get("data"), list):
            continue
        for hit in result["data"]:
            if isinstance(hit, dict) and hit.get("citation"):
                name = str(hit["citation"])
                out.setdefault(
                    name,
                    f"**{hit.get('title', '')}** — {hit.get('section', '')}\n\n"
                    f"{hit.get('text', '')}",
                )
    return list(out.items())


def incidents_table(incidents: list[IncidentView]) -> str:
    if not incidents:
        return "No incidents recorded for your organizations yet."
    rows = [
        "| # | when (UTC) | workspace | title | outcome |",
        "|---|---|---|---|---|",
    ]
    for i in incidents:
        rows.append(
            f"| {i.id} | {i.created_at:%Y-%m-%d %H:%M} | {i.workspace or '—'} | "
            f"{_cell(i.title)} | {i.outcome} |"
        )
    return "\n".join(rows) + "\n\n`/incident ID` shows one."


def incident_text(i: IncidentView) -> str:
    resolved = f"{i.resolved_at:%Y-%m-%d %H:%M} UTC" if i.resolved_at else "not resolved"
    minutes = f" ({i.time_to_resolve_seconds / 60:.0f} min)" if i.time_to_resolve_seconds else ""
    return "\n".join(
        [
            f"### Incident #{i.id}: {i.title}",
            f"{i.org} / {i.workspace or '—'} · opened {i.created_at:%Y-%m-%d %H:%M} UTC · "
            f"{resolved}{minutes} · outcome **{i.outcome}** · source {i.source}",
            "",
            f"**Symptoms** {i.symptoms or '—'}",
            "",
            f"**Findings** {i.findings or '—'}",
            "",
            f"**Root cause** {i.root_cause or '—'}",
            "",
            f"**Mitigation** {i.mitigation or '—'}",
        ]
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
