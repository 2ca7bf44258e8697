"""Noisy neighbour: one application burns CPU up to its limit while other applications'
pods on the same nodes are throttled far below theirs — the node, not their limit, is short."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._workload import AppLoad, loads
from hexaops.tools.diagnostics.findings import Finding, Severity
from hexaops.tools.diagnostics.scope import DiagnosticScope

HOGGING: Final = 0.9  # a pod using this share of its CPU limit
STARVED: Final = 0.1  # throttled in this share of CFS periods ...
IDLE: Final = 0.5  # ... while using less than this share of its own limit
SLOW_SECONDS: Final = 0.5


def starvation(scope: DiagnosticScope) -> list[tuple[AppLoad, list[AppLoad]]]:
    """(hog, the applications it starves) for every hog with victims, hogs in name order."""
    return scope.memo(("starvation",), lambda: _starvation(scope))


def _starvation(scope: DiagnosticScope) -> list[tuple[AppLoad, list[AppLoad]]]:
    vitals = loads(scope)
    hog_nodes: dict[AppLoad, set[str]] = defaultdict(set)
    starved_on: dict[str, set[AppLoad]] = defaultdict(set)
    for load in vitals.values():
        for pod in load.pods:
            if not pod.node or pod.limit <= 0:
                continue
            if pod.cpu >= HOGGING * pod.limit:
                hog_nodes[load].add(pod.node)
            elif pod.throttled >= STARVED and pod.cpu < IDLE * pod.limit:
                starved_on[pod.node].add(load)
    out = []
    for hog, nodes in sorted(hog_nodes.items(), key=lambda kv: (kv[0].app.project, kv[0].app.name)):
        victims = {v for n in nodes for v in starved_on.get(n, set()) if v.app != hog.app}
        if victims:
            out.append((hog, sorted(victims, key=lambda v: (v.app.project, v.app.name))))
    return out


@register
class NoisyNeighbourAnalyzer(Analyzer):
    name = "noisy_neighbour"
    concern = "an application hogging its nodes' CPU while its neighbours are throttled"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        wanted = set(scope.apps)
        findings = []
        for hog, victims in starvation(scope):
            if hog.app not in wanted and not any(v.app in wanted for v in victims):
                continue
            findings.append(_finding(self.name, scope, hog, victims))
        return findings


def _finding(
    analyzer: str, scope: DiagnosticScope, hog: AppLoad, victims: list[AppLoad]
) -> Finding:
    nodes = sorted({p.node for p in hog.pods if p.cpu >= HOGGING * p.limit})
    slowed = [v for v in victims if v.latency_rise(SLOW_SECONDS) is not None]
    severity: Severity = "critical" if slowed else "warning"
    names = ", ".join(v.app.name for v in victims)
    evidence: list[dict[str, Any]] = hog.evidence("cpu", "throttled", role="neighbour")
    for victim in victims[:3]:
        evidence += victim.evidence("throttled", "latency", role="victim")
    evidence.append({"kind": "nodes", "names": nodes})
    slow_text = "; latency rose for " + ", ".join(v.app.name for v in slowed) if slowed else ""
    limit_m = hog.observed.resources.cpu_limit_millis
    return Finding(
        analyzer=analyzer,
        severity=severity,
        object=scope.path(hog.app.project, "Deployment", hog.app.name),
        title=f"noisy neighbour {hog.app.name} hogs CPU on {', '.join(nodes)}, starving {names}",
        detail=f"{hog.app.name} uses {hog.cpu:.2f} cores, {100 * hog.saturation:.0f}% of its "
        f"{limit_m}m-per-pod CPU limit, on {', '.join(nodes)}; the pods of {names} there are "
        f"throttled although they use less than half of their own limits{slow_text}. The "
        f"victims are symptoms: {hog.app.name}'s generous CPU limit lets it take the node.",
        evidence=evidence,
        next_steps=[
            f"application.deploy — a lower cpu_limit for {hog.app.name}",
            f"application.scale — fewer replicas of {hog.app.name}",
        ],
        last_seen=hog.now.at or scope.now,
    )
