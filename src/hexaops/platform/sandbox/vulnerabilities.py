"""What trivy-operator would report for the images the sandbox runs: VulnerabilityReports.

A scanner only sees images: it matches the packages an image contains against an advisory
database. The sandbox keeps a small advisory table and the package lists of the images it knows
(repository + tag range → packages). An image the simulated world built from the compromised
base layer (the `vulnerable_image` condition) contains that layer's packages for as long as it
runs — every workload running that image reference gets the same report, as a real scanner
would give it. Reports carry nothing of faults: no cause, no fix, no fault id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxFault
from hexaops.platform.sandbox.injection import CVES
from hexaops.platform.sandbox.topology import Deployment, load_topology

REPORT_GROUP: Final = "aquasecurity.github.io"
REPORT_VERSION: Final = "v1alpha1"


@dataclass(frozen=True)
class Advisory:
    id: str
    package: str
    severity: str  # CRITICAL | HIGH | MEDIUM | LOW
    score: float  # CVSS v3 base score
    title: str
    fixed: str  # first package version without the flaw; older versions are affected
    introduced: str = "0"


ADVISORIES: Final = (
    Advisory(
        "CVE-2024-3094",
        "xz-utils",
        "CRITICAL",
        10.0,
        "xz: malicious code in distributed source",
        "5.6.1",
        introduced="5.6.0",
    ),
    Advisory(
        "CVE-2024-6387",
        "openssh-server",
        "CRITICAL",
        8.1,
        "openssh: regreSSHion - remote code execution in the SSH server",
        "9.8p1",
        introduced="8.5p1",
    ),
    Advisory(
        "CVE-2023-44487",
        "golang.org/x/net",
        "HIGH",
        7.5,
        "HTTP/2: multiple implementations are vulnerable to a rapid reset DDoS",
        "0.17.0",
    ),
    Advisory(
        "CVE-2024-4067",
        "micromatch",
        "MEDIUM",
        5.3,
        "micromatch: vulnerable to regular expression denial of service",
        "4.0.8",
    ),
    Advisory(
        "CVE-2024-5535",
        "libssl3",
        "LOW",
        3.7,
        "openssl: SSL_select_next_proto buffer overread",
        "3.0.14",
    ),
)

# What the images the demo runs contain: (repository, tags below this version) → packages.
IMAGE_PACKAGES: Final[tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]] = (
    ("ghcr.io/acme/frontend", "2.4.0", (("micromatch", "4.0.5"),)),
    ("ghcr.io/acme/payments", "3.1.0", (("golang.org/x/net", "0.15.0"), ("libssl3", "3.0.13"))),
    ("ghcr.io/globex/api", "5.3.0", (("golang.org/x/net", "0.15.0"),)),
    ("ghcr.io/globex/worker", "5.3.0", (("libssl3", "3.0.13"),)),
)
# The compromised base layer's packages (the images of a `vulnerable_image` condition).
COMPROMISED_BASE: Final = tuple((str(c["package"]), str(c["version"])) for c in CVES)


def version_key(version: str) -> tuple[int, ...]:
    """A comparable key of a version: its numbers in order ('9.6p1' → (9, 6, 1))."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; the tag is "latest" when none is given."""
    name = image.split("@", 1)[0]
    repository, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:  # a registry port, not a tag
        return name, "latest"
    return repository, tag


def packages_of(image: str, compromised: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The (package, version) pairs of an image the sandbox knows; [] for unknown images."""
    repository, tag = split_image(image)
    found: dict[str, str] = {}
    for repo, below, packages in IMAGE_PACKAGES:
        if repo == repository and version_key(tag) < version_key(below):
            found.update(packages)
    if image in compromised:
        found.update(COMPROMISED_BASE)
    return sorted(found.items())


def findings_of(packages: list[tuple[str, str]]) -> list[tuple[Advisory, str]]:
    """(advisory, installed version) for each package version an advisory affects."""
    hits = []
    for package, installed in packages:
        for adv in ADVISORIES:
            key = version_key(installed)
            if adv.package == package and version_key(adv.introduced) <= key < version_key(
                adv.fixed
            ):
                hits.append((adv, installed))
    return hits


def compromised_images(session: Session) -> frozenset[str]:
    """Image references the simulated world built from the compromised base layer, while
    they are still deployed somewhere (the condition ends when the image is replaced)."""
    rows = session.scalars(
        select(SandboxFault).where(
            SandboxFault.kind == "vulnerable_image", SandboxFault.status == "active"
        )
    ).all()
    return frozenset(str(f.baseline["image"]) for f in rows if f.baseline.get("image"))


def _report(d: Deployment, now: datetime, hits: list[tuple[Advisory, str]]) -> dict[str, Any]:
    repository, tag = split_image(d.spec.image)
    registry, _, path = repository.partition("/")
    digest = hashlib.sha256(d.spec.image.encode()).hexdigest()
    replicaset = f"{d.name}-{digest[:10]}"
    counts = {s: 0 for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")}
    for adv, _ in hits:
        counts[adv.severity] += 1
    return {
        "apiVersion": f"{REPORT_GROUP}/{REPORT_VERSION}",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": f"replicaset-{replicaset}-app",
            "namespace": d.namespace,
            "labels": {
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": replicaset,
                "trivy-operator.resource.namespace": d.namespace,
                "trivy-operator.container.name": "app",
            },
        },
        "report": {
            "updateTimestamp": now.isoformat(),
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.57.1"},
            "registry": {"server": registry if path else "index.docker.io"},
            "artifact": {
                "repository": path or repository,
                "tag": tag,
                "digest": f"sha256:{digest}",
            },
            "summary": {f"{s.lower()}Count": n for s, n in counts.items()},
            "vulnerabilities": [
                {
                    "vulnerabilityID": adv.id,
                    "resource": adv.package,
                    "installedVersion": installed,
                    "fixedVersion": adv.fixed,
                    "severity": adv.severity,
                    "score": adv.score,
                    "title": adv.title,
                    "primaryLink": f"https://avd.aquasec.com/nvd/{adv.id.lower()}",
                }
                for adv, installed in hits
            ],
        },
    }


def vulnerability_reports(
    engine: Engine, org: str, workspace: str, namespace: str, now: datetime
) -> list[dict[str, Any]]:
    """The VulnerabilityReports trivy-operator would hold in one project namespace: one per
    running Deployment whose image has known vulnerabilities."""
    with Session(engine) as session:
        topo = load_topology(session)
        compromised = compromised_images(session)
    reports = []
    for d in topo.deployments:
        if (d.org, d.workspace, d.namespace) != (org, workspace, namespace):
            continue
        hits = findings_of(packages_of(d.spec.image, compromised))
        if hits:
            reports.append(_report(d, now, hits))
    return reports
