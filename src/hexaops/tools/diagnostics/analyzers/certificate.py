"""Certificate expiry: cert-manager Certificates that are not Ready (expired, renewal failed)."""

from __future__ import annotations

from typing import Any

from hexaops.tools.diagnostics.analyzer import Analyzer, register
from hexaops.tools.diagnostics.findings import Finding, event_evidence, log_evidence, newest
from hexaops.tools.diagnostics.scope import DiagnosticScope


@register
class CertificateAnalyzer(Analyzer):
    name = "certificate_expiry"
    concern = "TLS certificates expired or not Ready"

    def analyze(self, scope: DiagnosticScope) -> list[Finding]:
        failing = {
            project: {n: c for n, c in scope.certificates(project).items() if not c.ready}
            for project in scope.projects
        }
        if not any(failing.values()):
            return []
        # Clients of a service whose certificate expired log x509 errors (its own pods may too);
        # the platform names an application's certificate <app>-tls.
        x509 = list(scope.log_matches("x509", "certificate has expired"))
        findings = []
        for project, certificates in failing.items():
            if not certificates:
                continue
            events = [e for e in scope.events(project) if e.kind == "Certificate"]
            for name, cert in certificates.items():
                mine = [e for e in events if e.name == name]
                expired = any("expired" in e.message.lower() for e in mine)
                evidence: list[dict[str, Any]] = [
                    {"kind": "certificate", "name": name, **cert.model_dump()}
                ]
                evidence += [event_evidence(e) for e in mine]
                evidence += [
                    log_evidence(pod, lines[-2:])
                    for app, pod, lines in x509
                    if app.project == project and name == f"{app.name}-tls"
                ][:2]
                findings.append(
                    Finding(
                        analyzer=self.name,
                        severity="critical",
                        object=scope.path(project, "Certificate", name),
                        title=f"certificate {name} {'expired' if expired else 'is not Ready'}",
                        detail="clients fail the TLS handshake with the service it secures"
                        + (
                            " (re-issuance in progress)"
                            if cert.issuing
                            else "; renewal did not succeed"
                        ),
                        evidence=evidence,
                        next_steps=["certificate.renew — re-issue the certificate"],
                        last_seen=newest(mine) or scope.now,
                    )
                )
        return findings
