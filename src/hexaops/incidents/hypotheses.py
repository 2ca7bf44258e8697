"""Hypotheses: what could have caused an alert, each with its evidence and a confidence.

Deterministic rules read the evidence (analyzer findings, vitals, throttling, log templates,
recent changes, vulnerability reports) and each proposes a cause on the objects at fault.
Ranking weighs each hypothesis by how directly it explains the alerting object — the object
itself, an object it depends on (calls seen in its logs), the node its pods run on, or the
workspace's DNS — so an unrelated warning elsewhere (a red herring) ranks below the cause.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

from hexaops.incidents.evidence import Evidence
from hexaops.platform.names import parse_cpu

CONFIDENCE: Final = {"critical": 0.9, "warning": 0.75, "info": 0.5}
RELEVANCE: Final = {"self": 1.0, "explains": 0.9, "project": 0.5, "elsewhere": 0.3}
_ANALYZER_CAUSE: Final = {
    "oom_killed": "memory_leak",
    "crashloop": "bad_config",
    "image_pull": "missing_image",
    "quota_exceeded": "quota_exhausted",
    "probe_failure": "bad_probe",
    "hpa": "hpa_at_max",
    "node_pressure": "node_pressure",
    "certificate_expiry": "certificate_expired",
    "network_policy_blocking": "network_policy_blocking",
    "disk_full": "disk_full",
    "dns_failure": "dns_failure",
}
_CALLS = (
    re.compile(r"calling ([a-z0-9-]+)"),
    re.compile(r"lookup ([a-z0-9-]+)\."),
    re.compile(r"dial tcp ([a-z0-9-]+)\."),
)
_LINE_POD = re.compile(r" [A-Z]+ [^/\s]+/[^/\s]+/([a-z0-9-]+): ")
ERROR_RATE_PCT: Final = 5.0  # 5xx share (%) above which a workload counts as failing
SLOW_MS: Final = 1000.0  # mean latency above which a workload counts as slow
SATURATED: Final = 0.9  # CPU use at this share of the replicas' limits counts as at the limit
THROTTLED: Final = 1.0  # throttled CFS periods per second


@dataclass
class Hypothesis:
    cause: str
    title: str
    workload: str  # the application at fault (or node/workspace name)
    kind: str  # Deployment | Node | Workspace | Pod | Certificate | NetworkPolicy
    objects: list[str]  # "org/workspace/[project/]Kind/name" of the objects at fault
    confidence: float
    evidence: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    relevance: str = "elsewhere"
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def propose(ev: Evidence) -> list[Hypothesis]:
    """Every cause the evidence supports, ranked for the alert's target (best first)."""
    found = _from_findings(ev) + _from_vitals(ev) + _from_logs(ev) + _from_vulnerabilities(ev)
    merged: dict[tuple[str, str], Hypothesis] = {}
    for h in found:
        key = (h.cause, h.workload)
        if key not in merged or merged[key].confidence < h.confidence:
            merged[key] = h
    ranked = list(merged.values())
    callers = calls(ev)
    for h in ranked:
        h.relevance = _relevance(ev, h, callers)
        h.score = round(h.confidence * RELEVANCE[h.relevance], 4)
    ranked.sort(key=lambda h: (-h.score, -h.confidence, h.cause, h.workload))
    return ranked


def calls(ev: Evidence) -> dict[str, set[str]]:
    """callee → callers, as the callers' own log lines name them."""
    apps = sorted(ev.apps, key=len, reverse=True)
    edges: dict[str, set[str]] = {}
    for text in ev.messages():
        pod = _LINE_POD.search(text)
        caller = next((a for a in apps if pod and pod.group(1).startswith(a + "-")), None)
        for pattern in _CALLS:
            for callee in pattern.findall(text):
                if caller and callee in ev.apps and callee != caller:
                    edges.setdefault(callee, set()).add(caller)
    # The alerting workload's own lines name what it calls.
    for text in ev.messages(own=True):
        for pattern in _CALLS:
            for callee in pattern.findall(text):
                if callee in ev.apps and callee != ev.target.name:
                    edges.setdefault(callee, set()).add(ev.target.name)
    return edges


def _relevance(ev: Evidence, h: Hypothesis, callers: dict[str, set[str]]) -> str:
    t = ev.target
    if t.kind == "Node":
        return "self" if h.kind == "Node" and h.workload == t.name else "elsewhere"
    if t.kind == "Workspace":
        return "self" if h.kind == "Workspace" else "project"
    if h.workload == t.name and h.kind != "Node":
        return "self"
    if h.kind == "Workspace":
        return "explains"
    if h.kind == "Node" and t.name in h.details.get("affected", []):
        return "explains"
    named = h.details.get("callers", []) + h.details.get("starved", [])
    if t.name in _upstream_of(callers, h.workload) or t.name in named:
        return "explains"
    return "project" if h.details.get("project") == t.project else "elsewhere"


def _upstream_of(callers: dict[str, set[str]], callee: str) -> set[str]:
    """Every workload whose calls reach `callee`, directly or through others."""
    seen: set[str] = set()
    todo = [callee]
    while todo:
        for caller in callers.get(todo.pop(), set()):
            if caller not in seen:
                seen.add(caller)
                todo.append(caller)
    return seen


def _path(ev: Evidence, project: str | None, kind: str, name: str) -> str:
    t = ev.target
    return "/".join(p for p in (t.org, t.workspace, project, kind, name) if p)


def _from_findings(ev: Evidence) -> list[Hypothesis]:
    out = []
    unavailable = [f for f in ev.findings if f.get("analyzer") == "deployment_unavailable"]
    for f in ev.findings:
        cause = _ANALYZER_CAUSE.get(str(f.get("analyzer")))
        if cause is None or f.get("symptom") or _stale(ev, f):
            continue
        parts = str(f.get("object", "")).split("/")
        kind, name = parts[-2], parts[-1]
        project = parts[2] if len(parts) == 5 else None
        workload = name
        details: dict[str, Any] = {"project": project}
        if kind == "Node":
            cause = (
                "node_disk_pressure"
                if "DiskPressure" in str(f.get("title"))
                else "node_memory_pressure"
            )
            details["affected"] = [str(u.get("object", "")).split("/")[-1] for u in unavailable]
        elif kind == "Certificate":
            workload = name.removesuffix("-tls")
            details["certificate"] = name
        elif kind == "HorizontalPodAutoscaler":
            workload, kind = name, "Deployment"
            details["title"] = f.get("title")
        elif kind == "Pod":
            workload = next(
                (a for a in sorted(ev.apps, key=len, reverse=True) if name.startswith(a + "-")),
                name,
            )
            details["pod"] = name
        elif cause == "network_policy_blocking":
            policy = re.search(r"NetworkPolicy ([a-z0-9-]+)", str(f.get("title")))
            details["network_policy"] = policy.group(1) if policy else ""
            details["callers"] = _pods_apps(ev, f)
        elif cause == "dns_failure":
            kind, workload, details = "Workspace", ev.target.workspace, {"project": None}
        out.append(
            Hypothesis(
                cause=cause,
                title=str(f.get("title")),
                workload=workload,
                kind=kind,
                objects=[str(f.get("object"))],
                confidence=CONFIDENCE.get(str(f.get("severity")), 0.5),
                evidence=[
                    f"diagnose/{f.get('analyzer')}: {f.get('title')}",
                    str(f.get("detail", ""))[:300],
                ],
                details=details,
            )
        )
    return out


def _stale(ev: Evidence, finding: dict[str, Any]) -> bool:
    """A finding whose newest observation is older than the window (e.g. old log lines)."""
    seen = finding.get("last_seen")
    if ev.start is None or not seen:
        return False
    return datetime.fromisoformat(str(seen)) < ev.start


def _pods_apps(ev: Evidence, finding: dict[str, Any]) -> list[str]:
    """Applications whose pods' log lines are in a finding's evidence (the callers)."""
    apps = sorted(ev.apps, key=len, reverse=True)
    pods = [str(e.get("pod", "")) for e in finding.get("evidence") or [] if e.get("kind") == "logs"]
    return sorted({a for p in pods for a in apps if p.startswith(a + "-")})


def _limit_cores(ev: Evidence, app: str) -> float:
    spec = ev.apps[app]
    limit = spec.resources.get("cpu_limit") or spec.resources.get("cpu_request") or "0"
    return parse_cpu(str(limit)) / 1000 * spec.replicas


def _recent_deploy(ev: Evidence, app: str) -> dict[str, Any] | None:
    """The last rollout of `app` (its creation, revision 1, is no rollout)."""
    if ev.apps[app].revision <= 1:
        return None
    for change in ev.changes:
        target = str(change.get("target", ""))
        deployed = change.get("operation") == "application.deploy"
        if deployed and target.endswith(f"/{app}") and change.get("outcome") == "succeeded":
            return change
    return None


def _from_vitals(ev: Evidence) -> list[Hypothesis]:
    out = []
    starved = {c for c, rate in ev.throttled.items() if rate >= THROTTLED}
    for app, stats in ev.vitals.items():
        if app not in ev.apps:
            continue
        project = ev.apps[app].project
        path = _path(ev, project, "Deployment", app)
        cpu, errors = stats["cpu_cores"], stats["error_pct"]
        limit = _limit_cores(ev, app)
        if limit and cpu >= SATURATED * limit:
            facts = [f"{app} uses {cpu:.2f} cores of its {limit:.2f}-core limit"]
            own = ev.throttled.get(app, 0.0)
            others = sorted(starved - {app})
            # An autoscaled app is capped by its HPA: the hpa analyzer names that cause.
            if errors >= ERROR_RATE_PCT and own >= THROTTLED and not ev.apps[app].autoscaling:
                out.append(
                    Hypothesis(
                        "cpu_saturation",
                        f"{app} is CPU-saturated: throttled at its limit, "
                        f"{errors:.1f}% of requests fail",
                        app,
                        "Deployment",
                        [path],
                        0.8,
                        [*facts, f"{app} throttled {own:.1f} periods/s", f"5xx {errors:.1f}%"],
                        {"project": project, "replicas": ev.apps[app].replicas, "cpu": cpu},
                    )
                )
            elif others:
                out.append(
                    Hypothesis(
                        "noisy_neighbour",
                        f"{app} burns CPU at its limit while {', '.join(others)} are throttled",
                        app,
                        "Deployment",
                        [path],
                        0.7,
                        [*facts, f"throttled: {', '.join(others)}"],
                        {"project": project, "replicas": ev.apps[app].replicas, "starved": others},
                    )
                )
        deploy = _recent_deploy(ev, app)
        if errors >= 2 * ERROR_RATE_PCT:
            crashes = [m for m in ev.messages() if "unhandled exception" in m and f"/{app}-" in m]
            if crashes or deploy:
                out.append(
                    Hypothesis(
                        "bad_deploy",
                        f"{app} fails {errors:.1f}% of requests"
                        + (" since its last deploy" if deploy else ""),
                        app,
                        "Deployment",
                        [path],
                        0.85 if (crashes and deploy) else 0.6,
                        [f"5xx {errors:.1f}%"]
                        + crashes[:1]
                        + (
                            [f"change #{deploy.get('action_id')}: {deploy.get('change')}"]
                            if deploy
                            else []
                        ),
                        {"project": project, "revision": ev.apps[app].revision},
                    )
                )
    return out


def _from_logs(ev: Evidence) -> list[Hypothesis]:
    out = []
    slow: dict[str, list[str]] = {}
    for text in ev.messages():
        match = re.search(r"upstream request timeout calling ([a-z0-9-]+)", text)
        if match and match.group(1) in ev.apps:
            slow.setdefault(match.group(1), []).append(text)
    for app, lines in slow.items():
        latency = (ev.vitals.get(app) or {}).get("latency_ms", 0.0)
        project = ev.apps[app].project
        out.append(
            Hypothesis(
                "slow_dependency",
                f"calls to {app} time out upstream (mean latency {latency:.0f} ms)",
                app,
                "Deployment",
                [_path(ev, project, "Deployment", app)],
                0.8 if latency > 1000 else 0.6,
                [lines[0][:300], f"{app} mean latency {latency:.0f} ms"],
                {"project": project},
            )
        )
    return out


def _from_vulnerabilities(ev: Evidence) -> list[Hypothesis]:
    out = []
    for group in ev.vulnerabilities:
        critical = [
            v for v in group.get("vulnerabilities") or [] if v.get("severity") == "CRITICAL"
        ]
        if not critical:
            continue
        for w in group.get("workloads") or []:
            ident = str(w.get("workload", "") if isinstance(w, dict) else w)
            app = ident.split("/")[-1]
            if app not in ev.apps:
                continue
            project = ev.apps[app].project
            out.append(
                Hypothesis(
                    "vulnerable_image",
                    f"{group.get('image')} of {app} has {len(critical)} critical CVEs",
                    app,
                    "Deployment",
                    [_path(ev, project, "Deployment", app)],
                    0.7,
                    [f"{v.get('id')} {v.get('package')} {v.get('severity')}" for v in critical[:3]],
                    {"project": project, "image": group.get("image")},
                )
            )
    return out
