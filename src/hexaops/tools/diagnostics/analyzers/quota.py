"""Quota exceeded: the project's ResourceQuota forbids the pods a Deployment wants."""

from __future__ import annotations

from collections import defaultdict

from hexaops.platform.drivers.contract import ObservedEvent
from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import owner_of
from hexaops.tools.diagnostics.findings import Finding, event_evidence, newest, pod_evidence
from hexaops.tools.diagnostics.scope import AppTarget, DiagnosticScope


@register
class QuotaExceededAnalyzer(Analyzer):
    name = "quota_exceeded"
    concern = "pods forbidden by the project's ResourceQuota (FailedCreate: exceeded quota)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        refused: dict[AppTarget, list[ObservedEvent]] = defaultdict(list)
        for project, event in scope.all_events():
            if event.reason == "FailedCreate" and "exceeded quota" in event.message:
                app = owner_of(scope, project, event.name)
                if app is not None:
                    refused[app].append(event)
        findings = []
        for app, events in refused.items():
            observed = scope.application(app)
            if observed is None:
                continue
            waiting = [p for p in observed.pods if p.phase == "Pending"]
            quota = scope.quota(app.project)
            evidence = [event_evidence(e) for e in events] + [pod_evidence(p) for p in waiting]
            if quota is not None:
                evidence.append({"kind": "quota", "project": app.project, **quota.model_dump()})
            missing = observed.replicas - observed.ready_replicas
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if observed.ready_replicas == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: project {app.project} quota exceeded, "
                    f"{missing} replicas not created",
                    detail="the ReplicaSet cannot create pods: the project's ResourceQuota is "
                    "used up (the events say which resource). "
                    f"{observed.ready_replicas} of {observed.replicas} replicas run.",
                    evidence=evidence,
                    next_steps=[
                        "project.update_quota — raise the project's cpu/memory/pods quota",
                        "application.scale — fewer replicas, if the quota is right",
                    ],
                    last_seen=newest(events),
                )
            )
        return findings
