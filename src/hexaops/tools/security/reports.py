"""Vulnerability findings from the two report formats Trivy writes.

- `trivy image -f json`: `ArtifactName`, `Results[].Vulnerabilities[]` (VulnerabilityID,
  PkgName, InstalledVersion, FixedVersion, Severity, Title, CVSS).
- trivy-operator's `VulnerabilityReport` (aquasecurity.github.io/v1alpha1): `report.registry`,
  `report.artifact` (repository, tag), `report.vulnerabilities[]` (vulnerabilityID, resource,
  installedVersion, fixedVersion, severity, title, score).

Both become `ImageVulnerability` rows keyed by a normalized image reference, so they can be
matched to the applications running that image.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

_DOCKER_HUB: Final = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


@dataclass(frozen=True)
class ImageVulnerability:
    image: str  # normalized image reference, repository:tag
    id: str  # CVE-…, GHSA-…
    package: str
    installed: str
    fixed: str  # "" when no fixed version exists yet
    severity: str  # CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN
    title: str
    score: float | None  # CVSS v3 base score when the report has one
    source: str  # the report it came from


def normalize_image(reference: str) -> str:
    """An image reference as `repository:tag` for matching: no digest, Docker Hub's implicit
    registry and `library/` dropped, `latest` when no tag is given."""
    name = reference.strip().split("@", 1)[0]
    for prefix in _DOCKER_HUB:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name.startswith("library/"):
        name = name[len("library/") :]
    repository, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return f"{name}:latest"
    return f"{repository}:{tag}"


def repository_of(reference: str) -> str:
    """The repository of an image reference, as written (registry kept): the part before the
    tag or digest."""
    name = reference.split("@", 1)[0]
    repository, sep, tag = name.rpartition(":")
    return name if not sep or "/" in tag else repository


def _cvss(raw: Any) -> float | None:
    """The NVD v3 score, else the highest v3 score of any source, else the highest v2 score."""
    if not isinstance(raw, dict):
        return None
    sources = [s for s in raw.values() if isinstance(s, dict)]
    nvd = raw.get("nvd")
    if isinstance(nvd, dict) and isinstance(nvd.get("V3Score"), int | float):
        return float(nvd["V3Score"])
    for key in ("V3Score", "V2Score"):
        scores = [float(s[key]) for s in sources if isinstance(s.get(key), int | float)]
        if scores:
            return max(scores)
    return None


def _severity(value: Any) -> str:
    text = str(value or "UNKNOWN").upper()
    return text if text in ("CRITICAL", "HIGH", "MEDIUM", "LOW") else "UNKNOWN"


def from_trivy_json(report: dict[str, Any], source: str) -> list[ImageVulnerability]:
    """The findings of one `trivy image -f json` report."""
    artifact = report.get("ArtifactName")
    if not isinstance(artifact, str) or not artifact:
        return []
    image = normalize_image(artifact)
    found = []
    for result in report.get("Results") or []:
        for v in (result or {}).get("Vulnerabilities") or []:
            if not isinstance(v, dict) or not v.get("VulnerabilityID"):
                continue
            found.append(
                ImageVulnerability(
                    image=image,
                    id=str(v["VulnerabilityID"]),
                    package=str(v.get("PkgName", "")),
                    installed=str(v.get("InstalledVersion", "")),
                    fixed=str(v.get("FixedVersion") or ""),
                    severity=_severity(v.get("Severity")),
                    title=str(v.get("Title") or v.get("Description", ""))[:200],
                    score=_cvss(v.get("CVSS")),
                    source=source,
                )
            )
    return found


def report_image(obj: dict[str, Any]) -> str | None:
    """The normalized image a VulnerabilityReport is about, or None if it names none."""
    report = obj.get("report") or {}
    artifact = report.get("artifact") or {}
    repository = artifact.get("repository")
    if not repository:
        return None
    server = str((report.get("registry") or {}).get("server") or "")
    tag = str(artifact.get("tag") or "latest")
    prefix = f"{server}/" if server else ""
    return normalize_image(f"{prefix}{repository}:{tag}")


def from_vulnerability_report(obj: dict[str, Any]) -> list[ImageVulnerability]:
    """The findings of one trivy-operator VulnerabilityReport object."""
    image = report_image(obj)
    if image is None:
        return []
    meta = obj.get("metadata") or {}
    source = f"VulnerabilityReport {meta.get('namespace', '')}/{meta.get('name', '')}"
    found = []
    for v in (obj.get("report") or {}).get("vulnerabilities") or []:
        if not isinstance(v, dict) or not v.get("vulnerabilityID"):
            continue
        score = v.get("score")
        found.append(
            ImageVulnerability(
                image=image,
                id=str(v["vulnerabilityID"]),
                package=str(v.get("resource", "")),
                installed=str(v.get("installedVersion", "")),
                fixed=str(v.get("fixedVersion") or ""),
                severity=_severity(v.get("severity")),
                title=str(v.get("title", ""))[:200],
                score=float(score) if isinstance(score, int | float) else None,
                source=source,
            )
        )
    return found


def read_reports_dir(
    directory: Path, images: set[str]
) -> tuple[list[ImageVulnerability], int, list[str]]:
    """Findings of the Trivy JSON reports in `directory` about one of `images` (normalized),
    and how many report files were read. Reports about other images are skipped unread beyond
    their artifact name: they belong to workloads the caller may not see. Also returns the
    names of the files that are not JSON reports."""
    found: list[ImageVulnerability] = []
    read = 0
    unreadable: list[str] = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable Trivy report %s: %s", path, exc)
            unreadable.append(path.name)
            continue
        read += 1
        if not isinstance(document, dict):
            continue
        artifact = document.get("ArtifactName")
        if isinstance(artifact, str) and normalize_image(artifact) in images:
            found.extend(from_trivy_json(document, f"trivy report {path.name}"))
    return found, read, unreadable
