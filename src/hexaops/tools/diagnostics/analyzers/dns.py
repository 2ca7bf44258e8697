"""DNS failure: service names do not resolve inside the workspace (CoreDNS down or hung)."""

from __future__ import annotations

from typing import Any

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import line_time
from hexaops.tools.diagnostics.findings import Finding, log_evidence
from hexaops.tools.diagnostics.scope import DiagnosticScope

_NXDOMAIN = ("no such host", "server misbehaving", "temporary failure in name resolution")


@register
class DnsFailureAnalyzer(Analyzer):
    name = "dns_failure"
    concern = "service name lookups failing in the workspace (CoreDNS)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        failing = list(scope.log_matches(*_NXDOMAIN))
        coredns = scope.coredns()
        down = coredns is not None and not coredns.ready
        if not failing and not down:
            return []
        apps = sorted({f"{a.project}/{a.name}" for a, _, _ in failing})
        evidence: list[dict[str, Any]] = []
        if coredns is not None:
            evidence.append(
                {"kind": "component", "name": "kube-system/coredns", **coredns.model_dump()}
            )
        evidence += [log_evidence(pod, lines[-2:]) for _, pod, lines in failing[:4]]
        times = [line_time(line, scope.now) for _, _, lines in failing for line in lines]
        state = "not ready" if down else "reports ready but lookups fail (hung)"
        return [
            Finding(
                analyzer=self.name,
                severity="critical",
                object=scope.path("kube-system", "Deployment", "coredns"),
                title=f"DNS lookups fail in workspace {scope.workspace}"
                + (f" ({len(apps)} applications affected)" if apps else ""),
                detail=f"CoreDNS {state}; applications cannot resolve service names"
                + (f": {', '.join(apps)}" if apps else ""),
                evidence=evidence,
                next_steps=["workspace.restart_dns — rolling restart of the workspace's CoreDNS"],
                last_seen=max(times, default=scope.now),
            )
        ]
