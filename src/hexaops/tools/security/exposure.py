"""Ranking vulnerabilities by how exposed the workloads running them are.

A finding's score is its CVSS base score (or a stand-in for its severity) times the
multipliers of the workload it runs in: is it running, how many replicas, is it internet
facing, may it run as root or privileged, is it in an active incident. Every multiplier is
shown with the fact behind it, so the ranking can be explained and challenged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from hexaops.platform.sandbox.vulnerabilities import version_key
from hexaops.tools.security.reports import ImageVulnerability
from hexaops.tools.security.sources import Workload
from hexaops.tools.security.trivy import SEVERITY_RANK

# Stand-in base scores when a report has no CVSS (the middle of each CVSS v3 band).
SEVERITY_SCORE: Final = {"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "UNKNOWN": 1.0}


@dataclass(frozen=True)
class Factor:
    name: str
    fact: str
    multiplier: float

    def to_json(self) -> dict[str, Any]:
        return {"factor": self.name, "fact": self.fact, "multiplier": self.multiplier}


def exposure(w: Workload) -> list[Factor]:
    """The exposure factors of a workload now, each with the fact it rests on."""
    if w.ready is None:
        running = Factor("running", "unknown (the cluster did not answer)", 1.0)
    elif w.ready == 0:
        running = Factor("running", f"no ready pods (0/{w.replicas})", 0.3)
    else:
        running = Factor("running", f"{w.ready}/{w.replicas} pods ready", 1.0)
    if w.ready is not None:
        pods, fact = w.ready, f"{w.ready} ready pod(s) run the image"
    else:
        pods, fact = w.replicas, f"{w.replicas} replica(s), readiness unknown"
    replicas = Factor("replicas", fact, round(1 + 0.1 * min(max(pods - 1, 0), 10), 2))
    internet = Factor(
        "internet_facing", "unknown (the platform does not track Services or Ingresses)", 1.0
    )
    if w.privileged:
        root = Factor("privileged", "a container is privileged", 1.5)
    elif w.root:
        root = Factor("root", "may run as root (no runAsNonRoot/runAsUser in the spec)", 1.2)
    else:
        root = Factor("root", "runs as non-root", 1.0)
    signs = []
    if w.ready is not None and w.ready < w.replicas:
        signs.append(f"{w.replicas - w.ready} pod(s) not ready")
    if w.warnings:
        signs.append("Warning events: " + ", ".join(w.warnings))
    incident = (
        Factor("active_incident", "; ".join(signs), 1.3)
        if signs
        else Factor("active_incident", "none seen in the last 15 minutes", 1.0)
    )
    return [running, replicas, internet, root, incident]


def multiplier(factors: list[Factor]) -> float:
    return round(math.prod(f.multiplier for f in factors), 3)


def base_score(v: ImageVulnerability) -> float:
    return v.score if v.score is not None else SEVERITY_SCORE[v.severity]


def _fixes(findings: list[ImageVulnerability]) -> list[dict[str, Any]]:
    """Per package: the lowest version that fixes all its fixable findings, most findings
    resolved first."""
    by_package: dict[str, list[ImageVulnerability]] = defaultdict(list)
    for v in findings:
        by_package[v.package].append(v)
    fixes: list[dict[str, Any]] = []
    for package, rows in by_package.items():
        fixable = [v for v in rows if v.fixed]
        if not fixable:
            continue
        # A FixedVersion may list several branches ("1.2.3, 2.0.1"): the first one that is
        # newer than what is installed applies.
        wanted = max((_first_fix(v) for v in fixable), key=lambda text: (version_key(text), text))
        fixes.append(
            {
                "package": package,
                "installed": rows[0].installed,
                "upgrade_to": wanted,
                "resolves": sorted({v.id for v in fixable}),
                "worst": max((v.severity for v in fixable), key=lambda s: SEVERITY_RANK[s]),
                "top_cvss": max(base_score(v) for v in fixable),
            }
        )
    fixes.sort(
        key=lambda f: (
            -len(f["resolves"]),
            -SEVERITY_RANK[f["worst"]],
            -f["top_cvss"],
            f["package"],
        )
    )
    for fix in fixes:
        del fix["top_cvss"]
    return fixes


def _first_fix(v: ImageVulnerability) -> str:
    options = [o.strip() for o in v.fixed.split(",") if o.strip()]
    installed = version_key(v.installed)
    newer = [o for o in options if version_key(o) > installed]
    return min(newer or options, key=version_key)


def rank(workloads: list[Workload], findings: list[ImageVulnerability]) -> list[dict[str, Any]]:
    """Images with findings, most urgent first: each with its workloads (and why they are
    exposed), its findings scored in the most exposed workload, and the fixes."""
    unique = {(v.image, v.id, v.package): v for v in findings}
    by_image: dict[str, list[ImageVulnerability]] = defaultdict(list)
    for v in unique.values():
        by_image[v.image].append(v)
    runs: dict[str, list[tuple[Workload, list[Factor]]]] = defaultdict(list)
    for w in workloads:
        if w.image in by_image:
            runs[w.image].append((w, exposure(w)))
    groups: list[dict[str, Any]] = []
    for image, rows in by_image.items():
        running = sorted(runs[image], key=lambda r: (-multiplier(r[1]), r[0].id))
        if not running:
            continue
        top_workload, top_factors = running[0]
        top = multiplier(top_factors)
        scored: list[dict[str, Any]] = sorted(
            (
                {
                    "id": v.id,
                    "severity": v.severity,
                    "cvss": v.score,
                    "package": v.package,
                    "installed": v.installed,
                    "fixed": v.fixed or None,
                    "title": v.title,
                    "score": round(base_score(v) * top, 2),
                }
                for v in rows
            ),
            key=lambda s: (-s["score"], -SEVERITY_RANK[s["severity"]], s["id"]),
        )
        counts = {s: n for s in SEVERITY_RANK if (n := sum(v.severity == s for v in rows))}
        fixes = _fixes(rows)
        groups.append(
            {
                "image": image,
                "score": scored[0]["score"],
                "findings": counts,
                "recommended_fix": fixes[0] if fixes else None,
                "workloads": [
                    {
                        "workload": w.id,
                        "multiplier": multiplier(factors),
                        "factors": [f.to_json() for f in factors],
                    }
                    for w, factors in running
                ],
                "scored_in": top_workload.id,
                "vulnerabilities": scored,
                "other_fixes": fixes[1:],
                "sources": sorted({v.source for v in rows}),
            }
        )
    groups.sort(key=lambda g: (-g["score"], g["image"]))
    return groups
