"""NetworkPolicy blocking: calls to an application time out while a policy selects it."""

from __future__ import annotations

import re
from collections import defaultdict

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import line_time
from hexaops.tools.diagnostics.findings import Finding, log_evidence
from hexaops.tools.diagnostics.scope import AppTarget, DiagnosticScope

# "dial tcp checkout.shop.svc.cluster.local:8080: connect: connection timed out"
_TARGET = re.compile(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::\d+)?")
_TIMEOUTS = ("connection timed out", "i/o timeout")


@register
class NetworkPolicyAnalyzer(Analyzer):
    name = "network_policy_blocking"
    concern = (
        "calls to an application time out while a NetworkPolicy in its namespace may deny them"
    )

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        callers: dict[AppTarget, list[tuple[AppTarget, str, list[str]]]] = defaultdict(list)
        in_scope = set(scope.apps)
        # Callers outside a one-application scope see the timeouts: read their logs too.
        for caller, pod, lines in scope.log_matches(*_TIMEOUTS, related=True):
            by_target: dict[AppTarget, list[str]] = defaultdict(list)
            for line in lines:
                match = _TARGET.search(line)
                if match:
                    by_target[AppTarget(match[2], match[1])].append(line)
            for target, hits in by_target.items():
                callers[target].append((caller, pod, hits))
        findings = []
        for target, seen in sorted(callers.items(), key=lambda kv: (kv[0].project, kv[0].name)):
            if target.project not in scope.projects:
                continue
            if target not in in_scope and not any(c in in_scope for c, _, _ in seen):
                continue
            policies = scope.network_policies(target.project)
            if not policies:
                continue
            named = [p for p in policies if target.name in p]
            suspects = named or policies
            lines = [line for _, _, hits in seen for line in hits]
            callers_text = f"{len(seen)} caller pod" + ("s" if len(seen) != 1 else "")
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical",
                    object=scope.path(target.project, "Deployment", target.name),
                    title=f"calls to {target.name} time out; NetworkPolicy "
                    f"{', '.join(suspects)} may block them",
                    detail=f"{callers_text} time out connecting to {target.name} "
                    f"while namespace {target.project} has NetworkPolicies "
                    f"({', '.join(policies)}); a policy without an ingress rule for the callers "
                    "drops their packets.",
                    evidence=[
                        {"kind": "network_policies", "project": target.project, "names": policies}
                    ]
                    + [log_evidence(pod, hits[-2:]) for _, pod, hits in seen[:3]],
                    next_steps=[
                        f"network_policy.delete — {suspects[0]}, if it was not meant to "
                        f"isolate {target.name}",
                    ],
                    last_seen=max(line_time(line, scope.now) for line in lines),
                )
            )
        return findings
