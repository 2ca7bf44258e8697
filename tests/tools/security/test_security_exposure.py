"""Ranking by exposure: scores a person can re-derive from the factors shown."""

from __future__ import annotations

import math
from collections.abc import Callable

from hexaops.platform.core import Platform
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.platform.views import ApplicationView
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool
from hexaops.tools.security.exposure import rank
from hexaops.tools.security.reports import ImageVulnerability
from hexaops.tools.security.sources import Workload


def _workload(
    name: str, image: str, ready: int, replicas: int, warnings: list[str] | None = None
) -> Workload:
    app = ApplicationView(
        org="acme",
        workspace="acme-prod",
        project="shop",
        name=name,
        status="active",
        image=image,
        replicas=replicas,
        revision=1,
        resources={},
    )
    return Workload(app, image, ready, replicas, warnings or [], root=True)


def _vuln(image: str, cve: str, severity: str, score: float | None) -> ImageVulnerability:
    return ImageVulnerability(image, cve, "openssl", "3.0.1", "3.0.9", severity, "t", score, "test")


def test_the_more_exposed_workload_ranks_first_and_says_why() -> None:
    shared = "ghcr.io/acme/base:1"
    workloads = [
        _workload("idle", shared, ready=0, replicas=2),
        _workload("quiet", shared, ready=3, replicas=3),
        _workload("burning", shared, ready=3, replicas=3, warnings=["OOMKilling"]),
        _workload("single", "ghcr.io/acme/single:1", ready=1, replicas=1),
    ]
    findings = [
        _vuln(shared, "CVE-A", "HIGH", 7.5),
        _vuln(shared, "CVE-B", "LOW", None),  # no CVSS: the severity's stand-in score
        _vuln("ghcr.io/acme/single:1", "CVE-C", "CRITICAL", 9.8),
        _vuln("ghcr.io/acme/unused:1", "CVE-D", "CRITICAL", 10.0),  # runs nowhere
    ]
    groups = rank(workloads, findings)
    assert [g["image"] for g in groups] == [shared, "ghcr.io/acme/single:1"]
    ranked = groups[0]["workloads"]
    assert [w["workload"].rsplit("/", 1)[1] for w in ranked] == ["burning", "quiet", "idle"]
    for w in ranked:  # the multiplier is the product of the factors shown
        assert w["multiplier"] == round(math.prod(f["multiplier"] for f in w["factors"]), 3)
    burning = {f["factor"]: f for f in ranked[0]["factors"]}
    assert burning["active_incident"] == {
        "factor": "active_incident",
        "fact": "Warning events: OOMKilling",
        "multiplier": 1.3,
    }
    assert burning["replicas"]["fact"] == "3 ready pod(s) run the image"
    assert burning["internet_facing"]["fact"].startswith("unknown")
    assert burning["root"]["multiplier"] == 1.2
    idle = {f["factor"]: f for f in ranked[2]["factors"]}
    assert idle["running"] == {
        "factor": "running",
        "fact": "no ready pods (0/2)",
        "multiplier": 0.3,
    }
    assert idle["active_incident"]["fact"] == "2 pod(s) not ready"
    # Findings are scored in the most exposed workload: CVSS × its multiplier.
    top = groups[0]
    assert top["scored_in"] == "acme/acme-prod/shop/Deployment/burning"
    assert [v["id"] for v in top["vulnerabilities"]] == ["CVE-A", "CVE-B"]
    assert top["vulnerabilities"][0]["score"] == round(7.5 * ranked[0]["multiplier"], 2)
    assert top["vulnerabilities"][1]["score"] == round(2.0 * ranked[0]["multiplier"], 2)
    # A CRITICAL in one quiet pod ranks below a HIGH in a busy workload in trouble.
    assert groups[1]["score"] == round(9.8 * 1.2, 2) < top["score"]
    assert top["recommended_fix"] == {
        "package": "openssl",
        "installed": "3.0.1",
        "upgrade_to": "3.0.9",
        "resolves": ["CVE-A", "CVE-B"],
        "worst": "HIGH",
    }


def test_a_workload_in_trouble_in_the_sandbox_shows_it(
    tool_context: Callable[..., ToolContext], platform: Platform, store: ClickHouseStore
) -> None:
    sim = Simulation(platform.engine)
    sim.inject("crashloop_bad_config", "acme", "acme-prod", "shop/frontend")
    sim.advance(2, store)
    result = run_tool(
        tool_context(budget_tokens=50_000),
        "security_vulnerabilities",
        {"workspace": "acme-prod", "project": "shop", "application": "frontend"},
    )
    assert result.status == "ok", result.summary
    [frontend] = result.data[0]["workloads"]
    factors = {f["factor"]: f["fact"] for f in frontend["factors"]}
    assert factors["running"] == "no ready pods (0/3)"
    assert "BackOff" in factors["active_incident"]
