"""Image pull errors: pods that never start because their image cannot be pulled."""

from __future__ import annotations

import re

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.analyzers._common import pod_events
from hexaops.tools.diagnostics.findings import (
    Finding,
    clip,
    event_evidence,
    newest,
    pod_evidence,
)
from hexaops.tools.diagnostics.scope import DiagnosticScope

_IMAGE = re.compile(r'image "([^"]+)"')
PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})


@register
class ImagePullAnalyzer(Analyzer):
    name = "image_pull"
    concern = "pods stuck in ErrImagePull / ImagePullBackOff"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        findings = []
        for app, observed in scope.applications():
            events = [
                e
                for e in pod_events(scope, app, observed, ("Failed", "BackOff"))
                if "image" in e.message.lower()
            ]
            stuck = {p.name for p in observed.pods if p.reason in PULL_REASONS}
            stuck |= {e.name for e in events}
            if not stuck:
                continue
            pods = [p for p in observed.pods if p.name in stuck]
            serving = observed.ready_replicas
            pulled = [_IMAGE.search(e.message) for e in events]
            image = clip(next((m[1] for m in pulled if m), observed.image))
            findings.append(
                Finding(
                    analyzer=self.name,
                    severity="critical" if serving == 0 else "warning",
                    object=scope.path(app.project, "Deployment", app.name),
                    title=f"{app.name}: {len(pods)} pods cannot pull image {image}",
                    detail=f"the image of revision {observed.revision} cannot be pulled (a "
                    f"missing tag or no registry access); {serving} of {observed.replicas} "
                    "replicas still serve from older pods.",
                    evidence=[pod_evidence(p) for p in pods] + [event_evidence(e) for e in events],
                    next_steps=[
                        "application.rollback — back to the revision whose image exists",
                        "application.deploy — with an image tag that exists in the registry",
                    ],
                    last_seen=newest(events) or scope.now,
                )
            )
        return findings
