"""Unschedulable pods: Pending because no node can take them."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import pod_events
from hexaops.tools.diagnostics.analyzers.image_pull import PULL_REASONS
from hexaops.tools.diagnostics.findings import Finding, event_evidence, newest, pod_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope

# Pending for reasons other analyzers explain: the image, the project quota.
_EXPLAINED = PULL_REASONS | {"FailedCreate", "ContainerCreating"}


@register
class UnschedulableAnalyzer(Analyzer):
    name = "unschedulable"
    concern = "pods Pending because the scheduler finds no node for them"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            pending = [
                p for p in observed.pods if p.phase == "Pending" and p.reason not in _EXPLAINED
            ]
            if not pending:
                continue
            names = {p.name for p in pending}
            events = [
                e
                for e in pod_events(scope, app, observed, ("FailedScheduling",))
                if e.name in names
            ]
            nodes = scope.pool_nodes()
            cordoned = [n.name for n in nodes if n.unschedulable]
            evidence = [pod_evidence(p) for p in pending] + [event_evidence(e) for e in events]
            if nodes:
                evidence.append(
                    {
                        "kind": "nodes",
                        "pool": [n.name for n in nodes],
                        "cordoned": cordoned,
                    }
                )
            steps = ["application.scale — fewer replicas, if the pool cannot grow"]
            if cordoned:
                steps.insert(0, "node.uncordon — a cordoned node of the pool, once it is healthy")
            steps.append("application.deploy — smaller cpu/memory requests, if they are oversized")
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if observed.ready_replicas == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {len(pending)} pods Pending, not scheduled",
                    detail="no node has room for these pods"
                    + (f"; cordoned pool nodes: {', '.join(cordoned)}" if cordoned else "")
                    + f". {observed.ready_replicas} of {observed.replicas} replicas are ready.",
                    evidence=evidence,
                    next_steps=steps,
                    last_seen=newest(events) or scope.now,
                )
            )
        return findings
