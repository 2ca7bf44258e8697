"""Investigations ("what's wrong with checkout", "why is payments failing"): diagnose, then look
closer at the top finding's workload (metrics, logs), then the runbook, then answer with the root
cause, the evidence and next steps phrased as questions (nothing is changed)."""

from __future__ import annotations

import re
from typing import Any

from hexaops.agents.offline import render
from hexaops.agents.offline.conversation import Call
from hexaops.agents.offline.intents import Intent, current_app, missing_tool
from hexaops.agents.offline.remedies import (
    application_of,
    object_parts,
    operation_of,
    remedy,
    suggestions,
    target_name,
)
from hexaops.agents.offline.scope import Scope, resolve
from hexaops.agents.offline.steps import Answer, Situation, Step, ToolCalls

_FOLLOW_UPS = ("metrics_workload", "logs_summary", "knowledge_search")


def _top_finding(call: Call) -> dict[str, Any] | None:
    data = call.data if isinstance(call.data, dict) else {}
    findings = [f for f in data.get("findings") or [] if isinstance(f, dict)]
    causes = [f for f in findings if not f.get("symptom")]
    ranked = causes or findings
    return ranked[0] if ranked else None


class Investigate(Intent):
    def tools(self) -> tuple[str, ...]:
        return ("diagnose",)

    def plan(self, s: Situation) -> Step:
        if not s.bound("diagnose"):
            return self._without_diagnose(s)
        diagnosed = s.turn.called("diagnose")
        if not diagnosed:
            scope = resolve(s, "narrow")
            if not isinstance(scope, Scope):
                return scope
            args = s.args(
                "diagnose",
                workspace=scope.workspace,
                project=scope.project,
                application=scope.application,
                since=s.slots.since,
            )
            return ToolCalls([("diagnose", args)])
        diagnosis = diagnosed[-1]
        finding = _top_finding(diagnosis) if diagnosis.ok else None
        if finding is not None and not any(s.turn.called(t) for t in _FOLLOW_UPS):
            follow = self._follow_ups(s, finding)
            if follow:
                return ToolCalls(follow)
        offer = remedy(finding, self._listed(s, finding)) if diagnosis.ok else None
        return Answer(self.answer(s, diagnosis, finding, offer), proposal=offer)

    def _follow_ups(
        self, s: Situation, finding: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        obj = object_parts(str(finding.get("object") or ""))
        calls: list[tuple[str, dict[str, Any]]] = []
        workload = obj.get("name") if obj.get("kind") in ("Deployment", "Function") else None
        # The workspace's system components (kube-system) are no project the telemetry tools read.
        if workload and obj.get("project") not in (None, "kube-system"):
            scope = {"workspace": obj["workspace"], "project": obj["project"], "workload": workload}
            for tool in ("metrics_workload", "logs_summary"):
                if s.bound(tool):
                    calls.append((tool, s.args(tool, since=s.slots.since, **scope)))
        listing = {"workspace": obj.get("workspace"), "project": obj.get("project")}
        listed = s.turn.called("platform_workloads", **listing)
        if workload and s.bound("platform_workloads") and not listed:
            # The remedy may keep the rest of the application's spec (image, resources).
            calls.append(("platform_workloads", listing))
        if s.bound("knowledge_search"):
            query = f"runbook {finding.get('analyzer', '')} {finding.get('title', '')}".strip()
            calls.append(("knowledge_search", {"query": query[:200]}))
        return calls

    def _listed(self, s: Situation, finding: dict[str, Any] | None) -> dict[str, Any]:
        """The finding's application as platform_workloads listed it this turn ({} if not)."""
        obj = object_parts(str((finding or {}).get("object") or ""))
        name = application_of(obj)
        return current_app(s, obj.get("workspace"), obj.get("project"), name) if name else {}

    def _without_diagnose(self, s: Situation) -> Step:
        # Second best: the logs' errors and the workload's metrics, when those are bound.
        fallback = [t for t in ("logs_summary", "metrics_workload") if s.bound(t)]
        if not fallback:
            return missing_tool(self, s)
        done = [c for c in s.turn.calls if c.name in fallback]
        if done:
            lines = ["I could not run `diagnose` here; this is what the telemetry says:", ""]
            lines += [render.evidence_line(c) if c.ok else render.error_text(c) for c in done]
            return Answer("\n".join(lines))
        scope = resolve(s, "narrow")
        if not isinstance(scope, Scope):
            return scope
        values = {"workspace": scope.workspace, "project": scope.project, "workload": scope.target}
        return ToolCalls([(t, s.args(t, since=s.slots.since, **values)) for t in fallback])

    def answer(
        self,
        s: Situation,
        diagnosis: Call,
        finding: dict[str, Any] | None,
        offer: tuple[str, dict[str, Any]] | None = None,
    ) -> str:
        if not diagnosis.ok:
            return render.error_text(diagnosis)
        where = ", ".join(f"{k}={v}" for k, v in sorted(diagnosis.args.items()))
        if finding is None:
            return (
                f"**No problems found** ({where}): {render.quote(render.summary(diagnosis), 300)}"
                f"\n\nSource: {render.source(diagnosis, objects=False)}."
            )
        obj = str(finding.get("object") or "")
        parts = object_parts(obj)
        lines = [
            f"**Root cause:** {render.quote(finding.get('title'), 200)} on `{obj}` "
            f"({finding.get('severity', 'unknown')}, analyzer `{finding.get('analyzer')}`).",
            "",
            render.quote(finding.get("detail") or "", 600),
            "",
            "**Evidence**",
            f"- diagnose: {render.quote(render.first_sentence(render.summary(diagnosis)), 200)}"
            f" — source: {render.source(diagnosis, objects=False)}",
        ]
        lines += [f"- {text}" for text in _evidence(finding.get("evidence") or [])[:_EVIDENCE]]
        for call in s.turn.calls:
            if call.name == "knowledge_search":
                passages = render.passages(call.data, 1) if call.ok else []
                if passages:
                    lines.append(
                        f"- runbook (`knowledge_search`): {passages[0].removeprefix('- ')}"
                    )
            elif call.name in _FOLLOW_UPS:
                lines.append(render.evidence_line(call) if call.ok else render.error_text(call))
        data = diagnosis.data if isinstance(diagnosis.data, dict) else {}
        others = [f for f in data.get("findings") or [] if isinstance(f, dict) and f is not finding]
        if len(others) > 0:
            lines.append(
                f"- {len(others)} more finding(s): "
                + "; ".join(render.quote(f.get("title"), 100) for f in others[:3])
            )
        if s.slots.since_label:
            lines.append(f"- window asked for: {s.slots.since_label} (since={s.slots.since})")
        steps = suggestions(finding)
        lines += ["", "**Next steps**"]
        target = target_name(parts)
        for operation, why in steps[:3]:
            reason = f" ({render.plain(why, 160)})" if why else ""
            lines.append(f"- Shall I run `{operation}` on `{target}`{reason}?")
        if not steps:
            lines.append("- Ask me for the logs or metrics of the affected object to dig deeper.")
        if offer:
            operation = operation_of(offer[0])
            values = ", ".join(f"{k}={v}" for k, v in offer[1].items())
            lines.append(
                f"\nReply **yes** to request `{operation}` ({render.plain(values, 200)}); "
                "high-risk changes wait for an approver."
            )
        return "\n".join(lines)


_EVIDENCE = 4  # items of the finding's own evidence shown
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?\s*")


def _evidence(items: list[Any]) -> list[str]:
    """The finding's evidence as lines; pods in the same state and events with the same reason
    are folded into one line each (a Deployment's pods usually fail alike)."""
    lines: list[str] = []
    pods: dict[tuple[Any, ...], list[str]] = {}
    events: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("kind") == "pod":
            state = (item.get("phase"), item.get("last_state") or item.get("reason"))
            pods.setdefault(state, []).append(str(item.get("name")))
        elif item.get("kind") == "event":
            events.setdefault(item.get("reason"), []).append(item)
        else:
            lines.append(_evidence_item(item))
    folded = []
    for (phase, last), names in pods.items():
        folded.append(
            f"{len(names)} pod(s) {phase}, last state {last or 'n/a'}: "
            + ", ".join(f"`{n}`" for n in names[:3])
        )
    for reason, same in events.items():
        first = same[0]
        count = sum(int(e.get("count") or 1) for e in same)
        folded.append(
            f"event {reason} ×{count} on {len(same)} object(s), last "
            f"{render.when(max(str(e.get('last_seen')) for e in same))}: "
            f"{render.quote(first.get('message'), 200)}"
        )
    return folded + lines


def _evidence_item(item: dict[str, Any]) -> str:
    kind = item.get("kind")
    if kind == "logs":
        # The same message at different times is one line, counted.
        said: dict[str, int] = {}
        for line in item.get("lines") or []:
            text = _TIMESTAMP.sub("", str(line)).strip()
            said[text] = said.get(text, 0) + 1
        shown = "; ".join(
            render.quote(t, 160) + (f" ×{n}" if n > 1 else "") for t, n in list(said.items())[:2]
        )
        return f"log lines of pod `{item.get('pod')}`: {shown}"
    if kind == "metric":
        name = str(item.get("name"))
        raw = item.get("labels")
        labels: dict[str, Any] = raw if isinstance(raw, dict) else {}
        where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return (
            f"metric `{name}`{f' ({where})' if where else ''} = "
            f"{render.size(name, item.get('value'))} at {render.when(item.get('at'))}"
        )
    return render.quote(item, 200)
