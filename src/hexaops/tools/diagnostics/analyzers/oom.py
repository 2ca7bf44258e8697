"""OOMKilled: containers the kernel kills for exceeding their memory limit."""

from __future__ import annotations

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import pod_events
from hexaops.tools.diagnostics.findings import (
    Finding,
    event_evidence,
    log_evidence,
    metric_evidence,
    newest,
    pod_evidence,
)
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class OomKilledAnalyzer(Analyzer):
    name = "oom_killed"
    concern = "containers killed for exceeding their memory limit (OOMKilled)"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            events = pod_events(scope, app, observed, ("OOMKilling",))
            killed = {e.name for e in events} | {
                p.name for p in observed.pods if p.last_state == "OOMKilled"
            }
            if not killed:
                continue
            pods = [p for p in observed.pods if p.name in killed]
            limit = observed.resources.memory_limit_bytes
            evidence = [pod_evidence(p) for p in pods] + [event_evidence(e) for e in events]
            for sample in scope.metric("container_memory_working_set_bytes"):
                if sample.namespace == app.project and sample.pod in killed:
                    evidence.append(
                        metric_evidence(sample.name, {"pod": sample.pod}, sample.value, sample.at)
                    )
            worst = max(pods, key=lambda p: p.restarts)
            lines = [
                line
                for line in scope.pod_logs(app, worst.name)
                if "heap" in line.lower() or "oom" in line.lower() or "memory" in line.lower()
            ][-3:]
            if lines:
                evidence.append(log_evidence(worst.name, lines))
            kills = sum(e.count for e in events)
            findings.append(
                Finding(
                    analyzer=self.name,
                    # Kills in the window, or pods crash-looping now: ongoing. Otherwise only
                    # the last termination remembers it.
                    severity="critical"
                    if events or any(p.reason == "CrashLoopBackOff" for p in pods)
                    else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {len(pods)} pods OOMKilled"
                    + (f" ({kills} kills in the window)" if kills else ""),
                    detail=f"containers exceed their memory limit of {limit // 2**20}Mi and are "
                    f"killed; {worst.name} restarted {worst.restarts} times. Memory that grows "
                    "until the limit after every start is a leak in the running revision "
                    f"{observed.revision} ({observed.image}).",
                    evidence=evidence,
                    next_steps=[
                        "application.rollback — if the leak came with the latest revision",
                        "application.deploy — a fixed image, or a higher memory limit if the "
                        "usage is legitimate",
                    ],
                    last_seen=newest(events) or scope.now,
                )
            )
        return findings
