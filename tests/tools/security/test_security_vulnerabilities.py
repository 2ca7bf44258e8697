"""`security_vulnerabilities`: reports read, matched to workloads by image, ranked by exposure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hexaops.platform.core import Platform
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

BIG = 50_000  # token budget: these tests read whole results


def _trivy_report(image: str, *vulns: dict[str, Any]) -> dict[str, Any]:
    """A report shaped like `trivy image -f json` output (trimmed to the fields read)."""
    return {
        "SchemaVersion": 2,
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Results": [
            {"Target": f"{image} (debian 12.5)", "Class": "os-pkgs", "Vulnerabilities": []},
            {"Target": "app/go.sum", "Class": "lang-pkgs", "Vulnerabilities": list(vulns)},
        ],
    }


def _vuln(
    cve: str, pkg: str, installed: str, fixed: str, severity: str, nvd: float
) -> dict[str, Any]:
    return {
        "VulnerabilityID": cve,
        "PkgName": pkg,
        "InstalledVersion": installed,
        "FixedVersion": fixed,
        "Severity": severity,
        "Title": f"{pkg}: a flaw",
        "CVSS": {"nvd": {"V3Score": nvd}, "ghsa": {"V3Score": 1.0}},
    }


def _with_reports(ctx: ToolContext, directory: Path) -> ToolContext:
    ctx.settings = ctx.settings.model_copy(update={"trivy_reports_dir": directory})
    return ctx


def _images(result: Any) -> list[str]:
    return [g["image"] for g in result.data]


def test_sandbox_reports_follow_the_images_running(
    tool_context: Callable[..., ToolContext], platform: Platform, store: ClickHouseStore
) -> None:
    ctx = tool_context(budget_tokens=BIG)
    before = run_tool(ctx, "security_vulnerabilities", {"workspace": "acme-prod"})
    assert before.status == "ok", before.summary
    # The demo's payments and frontend images carry known flaws; checkout's does not (yet).
    assert _images(before) == ["ghcr.io/acme/payments:3.0.7", "ghcr.io/acme/frontend:2.3.1"]

    sim = Simulation(platform.engine)
    sim.inject("vulnerable_image", "acme", "acme-prod", "shop/checkout")
    sim.advance(1, store)
    after = run_tool(ctx, "security_vulnerabilities", {"workspace": "acme-prod"})
    assert after.status == "ok", after.summary
    top = after.data[0]
    assert top["image"] == "ghcr.io/acme/checkout:1.4.2"
    assert top["findings"] == {"CRITICAL": 2, "HIGH": 1}
    assert top["vulnerabilities"][0]["id"] == "CVE-2024-3094"
    assert top["vulnerabilities"][0]["fixed"] == "5.6.1"
    assert top["recommended_fix"]["package"] == "xz-utils"
    assert top["recommended_fix"]["upgrade_to"] == "5.6.1"
    assert [w["workload"] for w in top["workloads"]] == ["acme/acme-prod/shop/Deployment/checkout"]
    assert "ghcr.io/acme/checkout:1.4.2" in after.summary
    assert "CVE-2024-3094 CRITICAL" in after.summary
    # Reports are about images and nothing else: no fault, no cause, no mitigation.
    text = json.dumps(after.data)
    for secret in ("fault", "vulnerable_image", "mitigation", "root_cause"):
        assert secret not in text
    assert after.evidence[0].query == "3 VulnerabilityReports in acme/acme-prod/shop"


def test_trivy_json_reports_match_workloads_by_image(
    tool_context: Callable[..., ToolContext], tmp_path: Path
) -> None:
    (tmp_path / "catalog.json").write_text(
        json.dumps(
            _trivy_report(
                "ghcr.io/acme/catalog:1.9.0",
                _vuln("CVE-2024-24790", "stdlib", "1.22.1", "1.21.11, 1.22.4", "CRITICAL", 9.8),
                _vuln("CVE-2024-24789", "stdlib", "1.22.1", "1.21.11, 1.22.4", "MEDIUM", 5.5),
                _vuln("GHSA-xxxx-0001", "golang.org/x/crypto", "0.20.0", "", "HIGH", 7.0),
            )
        )
    )
    (tmp_path / "unrelated.json").write_text(
        json.dumps(
            _trivy_report(
                "docker.io/library/nginx:1.25", _vuln("CVE-1", "nginx", "1", "2", "LOW", 2.0)
            )
        )
    )
    (tmp_path / "broken.json").write_text("{not json")
    ctx = _with_reports(tool_context(budget_tokens=BIG), tmp_path)
    result = run_tool(
        ctx,
        "security_vulnerabilities",
        {"workspace": "acme-prod", "project": "shop", "application": "catalog"},
    )
    assert result.status == "ok", result.summary
    [group] = result.data
    assert group["image"] == "ghcr.io/acme/catalog:1.9.0"
    assert group["findings"] == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1}
    first = group["vulnerabilities"][0]
    assert (first["id"], first["cvss"], first["package"]) == ("CVE-2024-24790", 9.8, "stdlib")
    # Both stdlib findings are fixed by 1.22.4 (the branch newer than the installed 1.22.1).
    assert group["recommended_fix"] == {
        "package": "stdlib",
        "installed": "1.22.1",
        "upgrade_to": "1.22.4",
        "resolves": ["CVE-2024-24789", "CVE-2024-24790"],
        "worst": "CRITICAL",
    }
    unfixed = next(v for v in group["vulnerabilities"] if v["id"] == "GHSA-xxxx-0001")
    assert unfixed["fixed"] is None
    assert group["sources"] == ["trivy report catalog.json"]
    assert "2 Trivy JSON reports" in result.evidence[0].query
    assert "skipped unreadable reports: broken.json" in result.summary

    high = run_tool(
        ctx,
        "security_vulnerabilities",
        {
            "workspace": "acme-prod",
            "project": "shop",
            "application": "catalog",
            "min_severity": "HIGH",
        },
    )
    assert {v["id"] for v in high.data[0]["vulnerabilities"]} == {
        "CVE-2024-24790",
        "GHSA-xxxx-0001",
    }


def test_another_orgs_reports_and_workloads_are_never_visible(
    tool_context: Callable[..., ToolContext], tmp_path: Path
) -> None:
    (tmp_path / "globex-api.json").write_text(
        json.dumps(
            _trivy_report(
                "ghcr.io/globex/api:5.2.0",
                _vuln("CVE-2099-0001", "secretlib", "1.0", "1.1", "CRITICAL", 10.0),
            )
        )
    )
    dev = _with_reports(tool_context(budget_tokens=BIG), tmp_path)
    mine = run_tool(dev, "security_vulnerabilities", {})
    assert mine.status == "ok", mine.summary
    text = json.dumps(mine.model_dump(mode="json"))
    assert "globex" not in text
    assert "CVE-2099-0001" not in text
    assert run_tool(dev, "security_vulnerabilities", {"org": "globex"}).error_code == "not_found"
    other_ws = run_tool(dev, "security_vulnerabilities", {"workspace": "globex-prod"})
    assert other_ws.error_code == "not_found"

    globex = _with_reports(tool_context("owner@globex.example", budget_tokens=BIG), tmp_path)
    theirs = run_tool(globex, "security_vulnerabilities", {})
    assert theirs.status == "ok", theirs.summary
    assert _images(theirs)[0] == "ghcr.io/globex/api:5.2.0"
    assert theirs.data[0]["vulnerabilities"][0]["id"] == "CVE-2099-0001"
    assert "acme" not in json.dumps(theirs.model_dump(mode="json"))


def test_an_image_without_findings_is_an_empty_result(
    tool_context: Callable[..., ToolContext],
) -> None:
    result = run_tool(
        tool_context(),
        "security_vulnerabilities",
        {"workspace": "acme-prod", "project": "shop", "application": "catalog"},
    )
    assert result.status == "empty"
    assert result.summary.startswith("no known vulnerabilities of LOW or above")
    assert "acme-prod/shop/catalog" in result.summary


def test_a_misconfigured_reports_dir_is_said_not_hidden(
    tool_context: Callable[..., ToolContext], tmp_path: Path
) -> None:
    ctx = _with_reports(tool_context(), tmp_path / "missing")
    result = run_tool(
        ctx,
        "security_vulnerabilities",
        {"workspace": "acme-prod", "project": "shop", "application": "catalog"},
    )
    assert result.status == "empty"  # the cluster's reports were still read
    assert f"HEXAOPS_TRIVY_REPORTS_DIR {tmp_path / 'missing'} is not a directory" in result.summary
