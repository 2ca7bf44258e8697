"""CPU saturation: an application's pods run at their CPU limit, throttled, and it slows down."""

from __future__ import annotations

import math
from typing import Final

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._workload import AppLoad, loads
from hexaops.tools.diagnostics.analyzers.noisy_neighbour import starvation
from hexaops.tools.diagnostics.findings import Finding, Severity
from hexaops.tools.diagnostics.scope import DiagnosticScope

SATURATED: Final = 0.9  # CPU used at this share of the limits counts as at the limit
THROTTLED: Final = 0.25  # a quarter of the CFS periods throttled: demand above the limit
SLOW_SECONDS: Final = 0.5  # mean latency counted as slow when there is no "before"
FAILING: Final = 0.05  # 5xx share from which the saturation is critical
HEADROOM: Final = 0.7  # size replicas so the demand uses at most 70 % of their limits
FULLY_THROTTLED: Final = 0.9  # throttled nearly always: the demand is beyond measure


def saturated(load: AppLoad) -> bool:
    return load.saturation >= SATURATED and load.throttled >= THROTTLED


@register
class CpuSaturationAnalyzer(Analyzer):
    name = "cpu_saturation"
    concern = "applications at their CPU limit, throttled, with rising latency"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        vitals = loads(scope)
        # A noisy neighbour is at its limit too, but the cure is the opposite (less CPU).
        hogs = {hog.app for hog, _ in starvation(scope)}
        findings = []
        for app in scope.apps:
            load = vitals.get(app)
            if load is None or app in hogs or not saturated(load):
                continue
            if load.observed.hpa is not None:  # autoscaled: the hpa analyzer's question
                continue
            if load.latency_rise(SLOW_SECONDS) is None:
                continue
            findings.append(_finding(self.name, scope, load))
        return findings


def _finding(analyzer: str, scope: DiagnosticScope, load: AppLoad) -> Finding:
    app, obs = load.app, load.observed
    errors = load.now.error_ratio
    severity: Severity = "critical" if errors >= FAILING else "warning"
    latency = load.now.latency or 0.0
    before = load.before.latency if load.before else None
    was = f" (was {before * 1000:.0f} ms)" if before else ""
    limit_m = obs.resources.cpu_limit_millis
    # Fully throttled pods hide how much more they want: assume three times what they get.
    demand = 3.0 if load.throttled >= FULLY_THROTTLED else 1.0 + load.throttled
    wanted = max(obs.replicas + 1, math.ceil(obs.replicas * demand / HEADROOM))
    return Finding(
        analyzer=analyzer,
        severity=severity,
        object=scope.path(app.project, "Deployment", app.name),
        title=f"{app.name} is CPU-saturated: throttled at its {limit_m}m CPU limit, "
        f"latency {latency * 1000:.0f} ms",
        detail=f"its {len(load.pods)} ready pods use {load.cpu:.2f} of {load.limit:.2f} cores "
        f"({100 * load.saturation:.0f}% of their CPU limits) and are throttled in "
        f"{100 * load.throttled:.0f}% of CFS periods; mean latency {latency * 1000:.0f} ms{was}, "
        f"{100 * errors:.1f}% of requests fail. The traffic needs more CPU than the "
        "replicas may use.",
        evidence=load.evidence("cpu", "throttled", "latency", "errors"),
        next_steps=[
            f"application.scale — at least {wanted} replicas of {app.name} (throttling hides "
            "the full demand: re-check after; mind the project quota)",
            f"application.deploy — a higher cpu_limit for {app.name}",
        ],
        last_seen=load.now.at or scope.now,
    )
