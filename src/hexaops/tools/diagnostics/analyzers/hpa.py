"""HPA at its maximum or misconfigured: autoscaling that cannot follow the load."""

from __future__ import annotations

from typing import Any

from hexaops.platform.drivers.contract import HpaSpec
from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.findings import Finding, Severity, metric_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope, Sample

_DESIRED = "kube_horizontalpodautoscaler_status_desired_replicas"
_CURRENT = "kube_horizontalpodautoscaler_status_current_replicas"
_MAX = "kube_horizontalpodautoscaler_spec_max_replicas"


def _misconfiguration(hpa: HpaSpec) -> str:
    if hpa.min_replicas > hpa.max_replicas:
        return f"minReplicas {hpa.min_replicas} is above maxReplicas {hpa.max_replicas}"
    if hpa.min_replicas == hpa.max_replicas:
        return f"minReplicas = maxReplicas = {hpa.max_replicas}: it can never scale"
    if not 0 < hpa.target_cpu_percent <= 100:
        return f"CPU target {hpa.target_cpu_percent}% is outside 1–100%"
    return ""


@register
class HpaAnalyzer(Analyzer):
    name = "hpa"
    concern = "HorizontalPodAutoscalers pinned at maxReplicas or configured so they cannot scale"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        if not any(observed.hpa for _, observed in scope.applications()):
            return []
        cpu = scope.metric("container_cpu_usage_seconds_total")
        samples: dict[tuple[str, str, str], Sample] = {}
        for metric in (_DESIRED, _CURRENT, _MAX):
            for s in scope.metric(metric):
                samples[(metric, s.namespace, s.labels.get("horizontalpodautoscaler", ""))] = s
        findings = []
        for app, observed in scope.applications():
            hpa = observed.hpa
            if hpa is None:
                continue
            obj = scope.path(app.project, "HorizontalPodAutoscaler", app.name)
            wrong = _misconfiguration(hpa)
            if wrong:
                findings.append(
                    Finding(
                        analyzer=self.name,
                        severity="warning",
                        object=obj,
                        title=f"HPA of {app.name} is misconfigured",
                        detail=wrong,
                        evidence=[{"kind": "hpa", **hpa.model_dump()}],
                        next_steps=["application.set_hpa — consistent min/max and CPU target"],
                        last_seen=scope.now,
                    )
                )
                continue
            got = {m: samples.get((m, app.project, app.name)) for m in (_DESIRED, _CURRENT, _MAX)}
            desired, current = got[_DESIRED], got[_CURRENT]
            pinned = (current.value if current else observed.replicas) >= hpa.max_replicas
            if not pinned:
                continue
            # kube-state-metrics clamps desired replicas to the maximum; utilization says more.
            pods = {p.name for p in observed.pods if p.ready}
            used = sum(s.rate for s in cpu if s.namespace == app.project and s.pod in pods)
            requested = len(pods) * observed.resources.cpu_request_millis / 1000
            utilization = 100 * used / requested if requested else 0.0
            wants_more = utilization > hpa.target_cpu_percent or (
                desired is not None and desired.value > hpa.max_replicas
            )
            severity: Severity = "warning" if wants_more else "info"
            evidence: list[dict[str, Any]] = [
                {"kind": "hpa", **hpa.model_dump(), "replicas": observed.replicas}
            ]
            evidence += [
                metric_evidence(s.name, s.labels, s.value, s.at) for s in got.values() if s
            ]
            if cpu:
                evidence.append(
                    {
                        "kind": "metric",
                        "name": "cpu utilization of requests (rate of "
                        "container_cpu_usage_seconds_total, 5m)",
                        "value": round(utilization, 1),
                        "target": hpa.target_cpu_percent,
                    }
                )
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity=severity,
                    object=obj,
                    title=f"HPA of {app.name} is at maxReplicas {hpa.max_replicas}"
                    + (f" with CPU at {utilization:.0f}% of requests" if wants_more else ""),
                    detail="the load needs more replicas than the HPA may run: pods stay above "
                    f"the {hpa.target_cpu_percent}% CPU target and requests slow down."
                    if wants_more
                    else "the HPA runs at its maximum; it has no headroom for more load.",
                    evidence=evidence,
                    next_steps=[
                        "application.set_hpa — a higher max_replicas (check the project quota)",
                    ],
                    last_seen=desired.at if desired else scope.now,
                )
            )
        return findings
