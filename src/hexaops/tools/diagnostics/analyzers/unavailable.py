"""Deployment unavailable: fewer ready replicas than desired."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.findings import Finding, pod_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class DeploymentUnavailableAnalyzer(Analyzer):
    name = "deployment_unavailable"
    concern = "Deployments with fewer ready replicas than desired"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            if observed.replicas == 0 or observed.ready_replicas >= observed.replicas:
                continue
            unready = [p for p in observed.pods if not p.ready]
            reasons = sorted({p.reason or p.phase for p in unready})
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if observed.ready_replicas == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {observed.ready_replicas}/{observed.replicas} "
                    "replicas available",
                    detail=f"{len(unready)} pods are not ready"
                    + (f" ({', '.join(reasons)})" if reasons else "")
                    + "; the other findings on this Deployment say why.",
                    evidence=[pod_evidence(p) for p in unready],
                    next_steps=[
                        "application.rollback — if the unready pods are of a new revision",
                    ],
                    last_seen=scope.now,
                    symptom=True,
                )
            )
        return findings
