"""Failing probes: liveness probes that kill containers, readiness probes that keep them out
of their Service."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import pod_events
from hexaops.tools.diagnostics.findings import Finding, event_evidence, newest, pod_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class ProbeFailureAnalyzer(Analyzer):
    name = "probe_failure"
    concern = "liveness/readiness probes failing (Unhealthy events)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            unhealthy = pod_events(scope, app, observed, ("Unhealthy",))
            if not unhealthy:
                continue
            names = {e.name for e in unhealthy}
            liveness = any("liveness" in e.message.lower() for e in unhealthy)
            kills = [
                e
                for e in pod_events(scope, app, observed, ("Killing", "BackOff"))
                if e.name in names
            ]
            pods = [p for p in observed.pods if p.name in names]
            failures = sum(e.count for e in unhealthy)
            probe = "liveness" if liveness else "readiness"
            consequence = (
                "the kubelet kills and restarts the containers"
                if liveness
                else "the pods are taken out of their Service"
            )
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if liveness or observed.ready_replicas == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {probe} probe failing on {len(pods)} pods "
                    f"({failures} failures)",
                    detail=f"the kubelet reports the {probe} probe failing (the events say "
                    f"how); {consequence}. A probe that fails on "
                    f"every pod since revision {observed.revision} usually points at a wrong "
                    "path or port in the probe, not at the application.",
                    evidence=[pod_evidence(p) for p in pods]
                    + [event_evidence(e) for e in unhealthy + kills],
                    next_steps=[
                        "application.rollback — to the revision whose probe worked",
                        "application.deploy — a new revision with a corrected probe",
                    ],
                    last_seen=newest(unhealthy),
                )
            )
        return findings
