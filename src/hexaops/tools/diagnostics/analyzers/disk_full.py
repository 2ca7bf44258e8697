"""Disk full: pods whose writes fail because their volume is full."""

from __future__ import annotations

from typing import Any

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import line_time
from hexaops.tools.diagnostics.findings import Finding, log_evidence, metric_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class DiskFullAnalyzer(Analyzer):
    name = "disk_full"
    concern = "pods whose writes fail with 'no space left on device'"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        full = list(scope.log_matches("no space left on device"))
        if not full:
            return []
        usage = {(s.namespace, s.pod): s for s in scope.metric("container_fs_usage_bytes")}
        findings = []
        for app, pod, lines in full:
            evidence: list[dict[str, Any]] = [log_evidence(pod, lines[-3:])]
            used = usage.get((app.project, pod))
            if used is not None:
                evidence.append(metric_evidence(used.name, {"pod": pod}, used.value, used.at))
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical",
                    object=scope.path(app.project, "Pod", pod),
                    title=f"pod {pod} of {app.name}: disk full",
                    detail=f"{len(lines)} recent log lines report failed writes (no space left "
                    "on device); an emptyDir or log volume filled up.",
                    evidence=evidence,
                    next_steps=[
                        f"pod.delete — {pod}: its replacement starts with an empty volume",
                        f"application.restart — {app.name}, if several pods are full",
                    ],
                    last_seen=max(line_time(line, scope.now) for line in lines),
                )
            )
        return findings
