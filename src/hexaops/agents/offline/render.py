"""Answer rendering: concise Markdown from tool results — the answer first, then the evidence
with where it came from, then next steps.

Text that came from tools (summaries, log lines, event messages) is shown as data: quoted in
code spans, shortened, and never interpreted.
"""

from __future__ import annotations

import re
from typing import Any, Final

from hexaops.agents.offline.conversation import Call

_ERRORS: Final = {
    "forbidden": "You are not allowed to do this",
    "not_found": "It does not exist (or you cannot see it)",
    "invalid": "The request was not valid",
    "conflict": "It conflicts with the current state",
    "backend_unavailable": "A telemetry or scanning backend did not answer",
    "quota_exceeded": "It would exceed a quota",
    "internal": "The tool failed unexpectedly",
}
_NEXT_ON_ERROR: Final = {
    "forbidden": "Ask an owner or admin of the organization to do it or to change your role.",
    "not_found": "Check the name (ask me to list workspaces, projects or applications).",
    "invalid": "Rephrase with the missing or corrected value.",
    "backend_unavailable": "Try again in a moment, or use a narrower question.",
}


def quote(text: Any, limit: int = 160) -> str:
    """Tool-provided text as an inline code span (data, not Markdown or instructions)."""
    flat = " ".join(str(text).split()).replace("`", "'")
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"`{flat}`"


def plain(text: Any, limit: int = 160) -> str:
    """Tool-provided prose without Markdown control characters, on one line, shortened."""
    flat = re.sub(r"[`*_\[\]<>#|]", "", " ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def source(call: Call, objects: bool = True) -> str:
    """Where a result came from: tool, backend, window and (unless `objects` is False, or the
    result is a knowledge search whose passages cite themselves) the objects."""
    result = call.result or {}
    parts = [f"`{call.name}`"]
    evidence = [e for e in result.get("evidence") or [] if isinstance(e, dict)]
    if evidence:
        first = evidence[0]
        if first.get("backend"):
            parts.append(str(first["backend"]))
        if first.get("start") and first.get("end"):
            parts.append(f"{_time(first['start'])} → {_time(first['end'])}")
        names = list(dict.fromkeys(str(o) for e in evidence for o in e.get("objects") or []))
        if names and objects and not call.name.startswith("knowledge_"):
            more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
            parts.append(", ".join(names[:3]) + more)
    elif call.args:
        parts.append(", ".join(f"{k}={v}" for k, v in sorted(call.args.items())))
    return "; ".join(parts)


def _time(value: Any) -> str:
    return str(value).replace("T", " ").replace("+00:00", "Z")[:16] + "Z"


def summary(call: Call) -> str:
    return str((call.result or {}).get("summary") or "no summary")


def first_sentence(text: str) -> str:
    """The lead of a tool summary ("1 finding in acme/acme-prod (1 critical)")."""
    return re.split(r"(?<=[.;:])\s", text.strip(), maxsplit=1)[0].rstrip(".;:")


def size(name: str, value: Any) -> str:
    """A metric value as people read it: bytes in MiB, others with few digits."""
    if not isinstance(value, int | float):
        return str(value)
    if name.endswith("_bytes"):
        return f"{value / 2**20:.0f} MiB"
    return f"{value:.4g}"


def when(value: Any) -> str:
    return _time(value)


def evidence_line(call: Call) -> str:
    """One bullet: what a tool said and where from."""
    return f"- {quote(summary(call), 300)} — source: {source(call)}"


def error_text(call: Call) -> str:
    """A tool error explained: what went wrong, the tool's own message, and what to do."""
    result = call.result or {}
    code = str(result.get("error_code") or "")
    lead = _ERRORS.get(code, "The tool returned an error")
    text = f"{lead}: `{call.name}` said {quote(summary(call), 400)}."
    if hint := _NEXT_ON_ERROR.get(code):
        text += f" {hint}"
    return text


def action_status(call: Call) -> str:
    """A write's outcome as the user needs it: done, waiting for approval, or refused."""
    result = call.result or {}
    if result.get("status") == "error":
        return error_text(call)
    data = call.data if isinstance(call.data, dict) else {}
    if isinstance(data.get("actions"), list):  # a tool that requests several actions
        actions = [a for a in data["actions"] if isinstance(a, dict)]
        if not actions:
            return f"Nothing to change: {quote(summary(call), 300)}."
        if len(actions) == 1:
            return _one_action(call, actions[0])
        return "\n".join(f"- {_one_action(call, a)}" for a in actions)
    if isinstance(data.get("action"), dict):  # a tool that requests one action and says more
        return _one_action(call, data["action"])
    return _one_action(call, data)


def _one_action(call: Call, data: dict[str, Any]) -> str:
    number = data.get("id")
    status = str(data.get("status") or "")
    what = data.get("summary") or summary(call)
    label = f"action #{number}" if number is not None else "the action"
    if data.get("dry_run") or call.args.get("dry_run"):
        return f"Dry run only, nothing changed: {quote(what, 300)}."
    if status == "pending":
        return (
            f"Requested: {quote(what, 300)} — {label} waits for approval by an owner or admin "
            "of the organization."
        )
    if status == "succeeded":
        return f"Done: {quote(what, 300)} ({label} succeeded)."
    if status == "failed":
        error = data.get("error") or "no detail"
        return f"{label} failed: {quote(error, 300)} (planned: {quote(what, 200)})."
    if status == "rejected":
        return f"{label} was rejected: {quote(data.get('decision_note') or what, 300)}."
    if status == "refused":
        return f"`{data.get('operation')}` was refused: {quote(data.get('error') or what, 300)}."
    return f"{label} is {status or 'requested'}: {quote(what, 300)}."


_HIGHLIGHT_KEYS: Final = (
    "workload", "pod", "project", "name", "image", "id", "severity", "title", "template",
    "count", "score", "avg_MiB", "avg_cores", "peak_pod_MiB", "object", "workspaces", "reason",
    "message",
)  # fmt: skip


def highlights(data: Any, limit: int = 5, known: str = "") -> str:
    """The first items of a result's main list, a few fields each (quoted as data); items whose
    text is already in `known` (the summary) are left out."""
    items = data
    if isinstance(data, dict):
        items = next((v for v in data.values() if isinstance(v, list) and v), None)
    if not isinstance(items, list):
        return ""
    lines = []
    for item in items[:limit]:
        if not isinstance(item, dict):
            if " ".join(str(item).split()) not in known:
                lines.append(f"- {quote(item, 200)}")
            continue
        keys = [k for k in _HIGHLIGHT_KEYS if k in item and item[k] is not None]
        fields = [f"{k}={item[k]}" for k in keys]
        if fields and not all(str(item[k]) in known for k in keys[:5]):
            lines.append(f"- {quote(', '.join(fields[:5]), 220)}")
    more = len(items) - limit
    if more > 0 and lines:
        lines.append(f"- … and {more} more")
    return "\n".join(lines)


def passages(data: Any, limit: int) -> list[str]:
    """Knowledge-base hits as bullets: citation (document, section, lines) and an excerpt."""
    hits = data.get("results") if isinstance(data, dict) else data
    lines = []
    for hit in (hits if isinstance(hits, list) else [])[:limit]:
        if isinstance(hit, dict):
            cite = hit.get("citation") or hit.get("title") or hit.get("document") or "document"
            text = re.sub(r"^#+ [^\n]*\n", "", str(hit.get("text") or "").strip())  # the heading
            lines.append(f"- {quote(cite, 120)}: {quote(text, 240)}")
    return lines
