"""What an analyzer reports: a finding about one object, with the observations behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from hexaops.platform.drivers.contract import ObservedEvent, ObservedPod

Severity = Literal["critical", "warning", "info"]
SEVERITY_RANK: Final = {"critical": 0, "warning": 1, "info": 2}
MAX_LINE: Final = 300  # a log line or message is evidence, not a document: keep it short


def clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


class Finding(BaseModel):
    """One diagnosis. `next_steps` are platform operation kinds phrased as suggestions: the
    diagnostics never change anything."""

    analyzer: str
    severity: Severity
    object: str  # "org/workspace/project/Kind/name" ("org/workspace/Kind/name" if cluster-wide)
    title: str
    detail: str
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    last_seen: datetime | None = None  # when the newest observation behind it was made
    symptom: bool = False  # a consequence (unavailable, no endpoints) other findings may explain


def rank(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, causes before symptoms, then the most recent."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            f.symptom,
            -(f.last_seen.timestamp() if f.last_seen else 0.0),
            f.object,
            f.analyzer,
        ),
    )


def event_evidence(event: ObservedEvent) -> dict[str, Any]:
    return {
        "kind": "event",
        "type": event.type,
        "reason": event.reason,
        "object": f"{event.kind}/{event.name}",
        "count": event.count,
        "first_seen": event.first_seen.isoformat(),
        "last_seen": event.last_seen.isoformat(),
        "message": clip(event.message),
    }


def pod_evidence(pod: ObservedPod) -> dict[str, Any]:
    return {
        "kind": "pod",
        "name": pod.name,
        "phase": pod.phase,
        "ready": pod.ready,
        "restarts": pod.restarts,
        "reason": pod.reason,
        "last_state": pod.last_state,
        "node": pod.node,
    }


def log_evidence(pod: str, lines: list[str]) -> dict[str, Any]:
    return {"kind": "logs", "pod": pod, "lines": [clip(line) for line in lines]}


def metric_evidence(
    name: str, labels: dict[str, str], value: float, at: datetime
) -> dict[str, Any]:
    return {"kind": "metric", "name": name, "labels": labels, "value": value, "at": at.isoformat()}


def newest(events: list[ObservedEvent]) -> datetime | None:
    return max((e.last_seen for e in events), default=None)
