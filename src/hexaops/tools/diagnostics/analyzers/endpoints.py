"""Service without endpoints: no ready pod behind an application's Service."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.findings import Finding, pod_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class ServiceWithoutEndpointsAnalyzer(Analyzer):
    name = "service_without_endpoints"
    concern = "Services with no ready endpoint (all pods of the application unready)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            if observed.ready_replicas > 0:
                continue
            scaled_down = observed.replicas == 0
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="info" if scaled_down else "critical",
                    object=scope.path(app.project, "Service", app.name),
                    title=f"Service {app.name} has no ready endpoints",
                    detail="the application is scaled to zero: calls to it fail"
                    if scaled_down
                    else f"none of the {len(observed.pods)} pods is ready, so every call to "
                    f"{app.name}.{app.project}.svc is refused or times out.",
                    evidence=[pod_evidence(p) for p in observed.pods],
                    next_steps=["application.scale — to at least one replica"]
                    if scaled_down
                    else ["application.rollback — if the pods stopped being ready after a rollout"],
                    last_seen=scope.now,
                    symptom=True,
                )
            )
        return findings
