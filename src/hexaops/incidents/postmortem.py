"""The postmortem of an incident in Markdown: what fired, what was found, what was done, how
it ended, and the timeline — written from the incident record, never from ground truth."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def _time(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(record: dict[str, Any]) -> str:
    """Markdown from `store.detail(...)`."""
    lines = [
        f"# Incident {record['id']}: {record['title']}",
        "",
        f"- **Organization / workspace:** {record['org']} / {record['workspace']}"
        + (f" / {record['project']}" if record.get("project") else ""),
        f"- **Severity:** {record['severity']} · **Status:** {record['status']} · "
        f"**Outcome:** {record['outcome']}",
        f"- **Opened:** {_time(record['opened_at'])} · **Time to resolve:** "
        f"{_minutes(record.get('time_to_resolve_seconds'))}",
        "",
        "## Summary",
        "",
        record.get("narrative") or "No narrative was written.",
        "",
        "## Root cause",
        "",
        record.get("root_cause") or "Not determined.",
    ]
    if record.get("objects"):
        lines += [
            "",
            "Objects at fault: " + ", ".join(f"`{o['object']}`" for o in record["objects"]),
        ]
    hypotheses = record.get("hypotheses") or []
    if hypotheses:
        lines += [
            "",
            "## Hypotheses",
            "",
            "| # | cause | on | relevance | score | evidence |",
            "|---|---|---|---|---|---|",
        ]
        for i, h in enumerate(hypotheses, 1):
            evidence = "; ".join(h.get("evidence", [])[:2]).replace("|", "\\|")[:200]
            lines.append(
                f"| {i} | {h['cause']} | {h['workload']} | {h['relevance']} | {h['score']:.2f} | {evidence} |"
            )
    lines += ["", "## Mitigation", "", record.get("mitigation") or "None executed."]
    plan = record.get("plan") or []
    for step in plan:
        policy = step.get("policy") or {}
        lines.append(
            f"- `{step['operation']}` — {step['why']} (policy: {policy.get('why', 'n/a')})"
        )
    lines += ["", "## Alerts", ""]
    for a in record.get("alerts") or []:
        ended = f" → resolved {_time(a['ends_at'])}" if a.get("ends_at") else ""
        lines.append(
            f"- {a['alertname']} ({a['status']}), fired {_time(a['starts_at'])}{ended}; "
            f"received {a['received']}×, flaps {a['flaps']}"
        )
    lines += ["", "## Timeline", "", "| time | what | detail |", "|---|---|---|"]
    for e in record.get("timeline") or []:
        detail = str(e["summary"]).replace("|", "\\|").replace("\n", " ")[:300]
        lines.append(f"| {_time(e['at'])} | {e['kind']} | {detail} |")
    return "\n".join(lines) + "\n"
