"""Node pressure: pool nodes short of memory or disk, whose kubelet evicts pods."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hexaops.platform.drivers.contract import ObservedEvent
from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.findings import Finding, event_evidence, metric_evidence, newest
from hexaops.tools.diagnostics.scope import DiagnosticScope, Sample

_CONDITIONS = {"MemoryPressure": "memory", "DiskPressure": "ephemeral-storage"}
_AVAILABLE = {
    "MemoryPressure": "node_memory_MemAvailable_bytes",
    "DiskPressure": "node_filesystem_avail_bytes",
}


@register
class NodePressureAnalyzer(Analyzer):
    name = "node_pressure"
    concern = "nodes under MemoryPressure or DiskPressure (kube_node_status_condition, evictions)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        # Evictions, by the node the evicted pod ran on.
        pod_node = {
            (app.project, p.name): p.node for app, obs in scope.applications() for p in obs.pods
        }
        evicted: dict[str, list[ObservedEvent]] = defaultdict(list)
        for project, event in scope.all_events():
            if event.kind == "Pod" and event.reason == "Evicted":
                node = pod_node.get((project, event.name), "")
                evicted[node].append(event)
        pressured: dict[tuple[str, str], Sample] = {}
        for s in scope.metric("kube_node_status_condition"):
            condition = s.labels.get("condition", "")
            if condition in _CONDITIONS and s.labels.get("status") == "true" and s.value >= 1:
                pressured[(s.labels.get("node", ""), condition)] = s
        available = {
            (s.name, s.labels.get("node", "")): s
            for metric in set(_AVAILABLE.values())
            for s in scope.metric(metric)
        }
        findings = []
        for (node, condition), sample in sorted(pressured.items()):
            resource = _CONDITIONS[condition]
            events = [e for e in evicted.get(node, []) if resource in e.message]
            evidence: list[dict[str, Any]] = [
                metric_evidence(sample.name, sample.labels, sample.value, sample.at)
            ]
            free = available.get((_AVAILABLE[condition], node))
            if free is not None:
                evidence.append(metric_evidence(free.name, free.labels, free.value, free.at))
            evidence += [event_evidence(e) for e in events]
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical",
                    object=scope.cluster_path("Node", node),
                    title=f"node {node} under {condition}",
                    detail=f"the kubelet reports {condition} on {node}"
                    + (f" ({free.value / 2**30:.1f} GiB left)" if free is not None else "")
                    + f" and evicts pods; {len(events)} eviction events of this project's pods.",
                    evidence=evidence,
                    next_steps=[
                        "node.drain — move the pods off the node (it stays cordoned)",
                        "node.cordon — stop new pods landing on it, then application.restart",
                    ],
                    last_seen=max(sample.at, newest(events) or sample.at),
                )
            )
        return findings
