"""Error spike after a deploy: the running revision answers 5xx far more than before."""

from __future__ import annotations

from typing import Final

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._workload import AppLoad, loads
from hexaops.tools.diagnostics.findings import Finding, Severity
from hexaops.tools.diagnostics.scope import DiagnosticScope

FAILING: Final = 0.05  # 5xx share that counts as an error spike
CRITICAL: Final = 0.2


def spiking(load: AppLoad) -> bool:
    """Failing now. The window's start may already be after the rollout (the revision has
    failed since), so a "before" as bad does not acquit the revision; it is evidence."""
    return load.now.requests > 0 and load.now.error_ratio >= FAILING


@register
class ErrorSpikeAnalyzer(Analyzer):
    name = "error_spike_after_deploy"
    concern = "a rolled-out revision answering a high share of requests with 5xx"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        vitals = loads(scope)
        findings = []
        for app in scope.apps:
            load = vitals.get(app)
            # Revision 1 is the application's creation: there is no rollout to blame.
            if load is None or load.observed.revision <= 1 or not spiking(load):
                continue
            if load.observed.ready_replicas == 0:  # down, not buggy: other analyzers say why
                continue
            findings.append(_finding(self.name, scope, load))
        return findings


def _finding(analyzer: str, scope: DiagnosticScope, load: AppLoad) -> Finding:
    app, obs = load.app, load.observed
    now = load.now.error_ratio
    before = load.before.error_ratio if load.before else None
    severity: Severity = "critical" if now >= CRITICAL else "warning"
    if before is None:
        was = "no earlier traffic in the window to compare with"
    elif before < FAILING:
        was = f"up from {100 * before:.1f}% at the start of the window"
    else:
        was = f"already {100 * before:.1f}% at the start of the window"
    return Finding(
        analyzer=analyzer,
        severity=severity,
        object=scope.path(app.project, "Deployment", app.name),
        title=f"{app.name} revision {obs.revision} ({obs.image}) fails "
        f"{100 * now:.1f}% of requests with 5xx",
        detail=f"{load.now.errors:.2f} of {load.now.requests:.2f} requests/s answer 5xx "
        f"({was}) on revision {obs.revision}, its latest rollout; the new code is the first "
        "suspect: roll back, then compare the revisions.",
        evidence=[
            *load.evidence("errors", "latency"),
            {"kind": "revision", "revision": obs.revision, "image": obs.image},
        ],
        next_steps=[
            f"application.rollback — {app.name} to revision {obs.revision - 1}",
        ],
        last_seen=load.now.at or scope.now,
    )
