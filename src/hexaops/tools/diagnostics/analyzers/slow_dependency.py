"""Slow dependency: callers time out on a callee that is itself slow — the callee is the
cause, its callers' latency a symptom. Who calls whom comes from the callers' logs."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Final

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import line_time
from hexaops.tools.diagnostics.analyzers._workload import AppLoad, loads
from hexaops.tools.diagnostics.findings import Finding, Severity, log_evidence
from hexaops.tools.diagnostics.scope import AppTarget, DiagnosticScope

# "upstream request timeout calling payments upstream=payments"
_CALLS = re.compile(r"(?:timeout|timed out|slow)\b.*?\bcalling ([a-z0-9-]+)|upstream=([a-z0-9-]+)")
_NEEDLES = ("upstream request timeout", "upstream timeout", "deadline exceeded")
SLOW_SECONDS: Final = 0.5
CRITICAL_SECONDS: Final = 1.0
FAILING: Final = 0.05  # a callee failing this share of its requests counts as struggling too


def _struggling(load: AppLoad) -> bool:
    return load.latency_rise(SLOW_SECONDS) is not None or load.now.error_ratio >= FAILING


@register
class SlowDependencyAnalyzer(Analyzer):
    name = "slow_dependency"
    concern = "a slow callee its callers time out on (callers' logs name it; its latency is up)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        edges = _timeouts(scope)
        if not edges:
            return []
        vitals = loads(scope)
        slow = {app for app, load in vitals.items() if _struggling(load)}
        wanted = set(scope.apps)
        findings = []
        for callee, seen in sorted(edges.items(), key=lambda kv: (kv[0].project, kv[0].name)):
            if callee not in slow:
                continue
            # A slow callee that itself times out on a slow callee only passes the delay on.
            if any(
                callee in {c for c, _, _ in calls} and other in slow
                for other, calls in edges.items()
            ):
                continue
            callers = sorted({c for c, _, _ in seen}, key=lambda a: a.name)
            if callee not in wanted and not any(c in wanted for c in callers):
                continue
            findings.append(_finding(self.name, scope, vitals[callee], seen, vitals))
        return findings


def _timeouts(scope: DiagnosticScope) -> dict[AppTarget, list[tuple[AppTarget, str, list[str]]]]:
    """callee → (caller, pod, log lines) of the callers' timeouts calling it."""
    by_name = {(a.project, a.name): a for a in scope.apps + scope.related}
    edges: dict[AppTarget, list[tuple[AppTarget, str, list[str]]]] = defaultdict(list)
    for caller, pod, lines in scope.log_matches(*_NEEDLES, related=True):
        by_callee: dict[AppTarget, list[str]] = defaultdict(list)
        for line in lines:
            match = _CALLS.search(line)
            callee = by_name.get((caller.project, (match[1] or match[2]) if match else ""))
            if callee is not None and callee != caller:
                by_callee[callee].append(line)
        for callee, hits in by_callee.items():
            edges[callee].append((caller, pod, hits))
    return edges


def _finding(
    analyzer: str,
    scope: DiagnosticScope,
    load: AppLoad,
    seen: list[tuple[AppTarget, str, list[str]]],
    vitals: dict[AppTarget, AppLoad],
) -> Finding:
    app = load.app
    latency = load.now.latency or 0.0
    severity: Severity = "critical" if latency >= CRITICAL_SECONDS else "warning"
    callers = sorted({c for c, _, _ in seen}, key=lambda a: a.name)
    names = ", ".join(c.name for c in callers)
    before = load.before.latency if load.before else None
    was = f" (was {before * 1000:.0f} ms)" if before else ""
    evidence: list[dict[str, Any]] = load.evidence("latency", "errors", role="callee")
    evidence += [log_evidence(pod, hits[-2:]) for _, pod, hits in seen[:2]]
    for caller in callers[:3]:
        if caller in vitals:
            evidence += vitals[caller].evidence("latency", role="caller")
    lines = [line for _, _, hits in seen for line in hits]
    return Finding(
        analyzer=analyzer,
        severity=severity,
        object=scope.path(app.project, "Deployment", app.name),
        title=f"slow dependency {app.name} (mean latency {latency * 1000:.0f} ms): "
        f"{names} time out calling it",
        detail=f"{app.name} answers in {latency * 1000:.0f} ms on average{was} and "
        f"{100 * load.now.error_ratio:.1f}% of its requests fail; {names} log upstream "
        f"timeouts calling it: their slowness is a symptom, {app.name} the cause.",
        evidence=evidence,
        next_steps=[
            f"application.restart — {app.name}, to reset its stuck connections",
        ],
        last_seen=max(line_time(line, scope.now) for line in lines),
    )
