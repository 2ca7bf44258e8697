"""CrashLoopBackOff: containers that exit soon after they start, again and again."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import pod_events
from hexaops.tools.diagnostics.findings import (
    Finding,
    event_evidence,
    log_evidence,
    newest,
    pod_evidence,
)
from hexaops.tools.diagnostics.scope import DiagnosticScope

_FATAL = ("FATAL", "ERROR", "panic", "exception", "invalid")


@register
class CrashLoopAnalyzer(Analyzer):
    name = "crashloop"
    concern = "pods in CrashLoopBackOff (not explained by OOM kills or failing probes)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            probed = {e.name for e in pod_events(scope, app, observed, ("Unhealthy",))}
            crashing = [
                p
                for p in observed.pods
                if p.reason == "CrashLoopBackOff"
                and p.last_state != "OOMKilled"
                and p.name not in probed
            ]
            if not crashing:
                continue
            names = {p.name for p in crashing}
            events = [e for e in pod_events(scope, app, observed, ("BackOff",)) if e.name in names]
            worst = max(crashing, key=lambda p: p.restarts)
            lines = [
                line
                for line in scope.pod_logs(app, worst.name)
                if any(word.lower() in line.lower() for word in _FATAL)
            ][-3:]
            evidence = [pod_evidence(p) for p in crashing] + [event_evidence(e) for e in events]
            if lines:
                evidence.append(log_evidence(worst.name, lines))
            exits = f" (last exit: {worst.last_state})" if worst.last_state else ""
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if observed.ready_replicas == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {len(crashing)} of {len(observed.pods)} pods in "
                    "CrashLoopBackOff",
                    detail=f"containers of revision {observed.revision} ({observed.image}) "
                    f"exit right after starting{exits}; {worst.name} restarted "
                    f"{worst.restarts} times. Restarting will not help: the logs say why "
                    "it exits.",
                    evidence=evidence,
                    next_steps=[
                        "application.rollback — if the crashes began with the latest revision",
                        "application.deploy — a revision with a fixed image or configuration",
                    ],
                    last_seen=newest(events) or scope.now,
                )
            )
        return findings
