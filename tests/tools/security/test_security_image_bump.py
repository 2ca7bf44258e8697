"""`security_propose_image_bump`: an application.deploy request through the action pipeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

CHECKOUT = {"workspace": "acme-prod", "project": "shop", "application": "checkout"}


def _checkout(platform: Platform, who: Principal) -> tuple[str, int, dict[str, object]]:
    [app] = [
        a for a in platform.applications(who, "acme-prod", "shop", "acme") if a.name == "checkout"
    ]
    return app.image, app.replicas, app.resources


def test_the_bump_is_a_write_tool() -> None:
    assert all_tools()["security_propose_image_bump"].writes


@pytest.mark.parametrize("email", ["dev@acme.example", "owner@acme.example"])
def test_a_low_risk_bump_runs_by_policy_for_developers_and_owners(
    tool_context: Callable[..., ToolContext], platform: Platform, owner: Principal, email: str
) -> None:
    _, replicas, resources = _checkout(platform, owner)
    result = run_tool(
        tool_context(email), "security_propose_image_bump", {**CHECKOUT, "tag": "1.4.3"}
    )
    assert result.status == "ok", result.summary
    action = result.data["action"]
    # Rolling out a new image keeps the replicas: the pipeline rates it low risk and its policy
    # approves it at once, whoever of the builders asks.
    assert action["operation"] == "application.deploy"
    assert action["status"] == "succeeded"
    assert action["risk"] == "low"
    assert action["approved_by"] == "policy:low-risk"
    assert action["requested_by"] == email
    assert f"action #{action['id']} succeeded" in result.summary
    assert result.data["to_image"] == "ghcr.io/acme/checkout:1.4.3"
    assert result.evidence[0].objects == [f"action/{action['id']}"]
    # Same repository, new tag; replicas and resources untouched.
    assert _checkout(platform, owner) == ("ghcr.io/acme/checkout:1.4.3", replicas, resources)


def test_a_viewer_may_not_bump_and_nothing_is_requested(
    tool_context: Callable[..., ToolContext], platform: Platform, owner: Principal
) -> None:
    before = platform.list_actions(owner, "acme", limit=500)
    result = run_tool(
        tool_context("viewer@acme.example"),
        "security_propose_image_bump",
        {**CHECKOUT, "tag": "1.4.3"},
    )
    assert result.status == "error"
    assert result.error_code == "forbidden"
    assert "application.deploy needs" in result.summary
    assert platform.list_actions(owner, "acme", limit=500) == before
    assert _checkout(platform, owner)[0] == "ghcr.io/acme/checkout:1.4.2"


def test_bad_requests_are_refused(tool_context: Callable[..., ToolContext]) -> None:
    ctx = tool_context()
    same = run_tool(ctx, "security_propose_image_bump", {**CHECKOUT, "tag": "1.4.2"})
    assert same.error_code == "invalid"
    assert "already runs ghcr.io/acme/checkout:1.4.2" in same.summary
    bad = run_tool(ctx, "security_propose_image_bump", {**CHECKOUT, "tag": "1.4.3 && rm"})
    assert bad.error_code == "invalid"
    other = run_tool(
        ctx,
        "security_propose_image_bump",
        {"workspace": "globex-prod", "project": "web", "application": "api", "tag": "5.3.0"},
    )
    assert other.error_code == "not_found"


def test_bumping_the_flagged_image_clears_its_findings(
    tool_context: Callable[..., ToolContext], platform: Platform, store: ClickHouseStore
) -> None:
    sim = Simulation(platform.engine)
    sim.inject("vulnerable_image", "acme", "acme-prod", "shop/checkout")
    sim.advance(1, store)
    ctx = tool_context(budget_tokens=50_000)
    flagged = run_tool(ctx, "security_vulnerabilities", CHECKOUT)
    assert flagged.status == "ok", flagged.summary
    assert flagged.data[0]["image"] == "ghcr.io/acme/checkout:1.4.2"

    bump = run_tool(ctx, "security_propose_image_bump", {**CHECKOUT, "tag": "1.4.3"})
    assert bump.status == "ok", bump.summary
    sim.advance(1, store)
    cleared = run_tool(ctx, "security_vulnerabilities", CHECKOUT)
    assert cleared.status == "empty", cleared.summary


def test_a_dry_run_plans_the_bump_and_changes_nothing(
    tool_context: Callable[..., ToolContext], platform: Platform, owner: Principal
) -> None:
    before = _checkout(platform, owner)
    result = run_tool(
        tool_context("dev@acme.example"),
        "security_propose_image_bump",
        {**CHECKOUT, "tag": "1.4.3", "dry_run": True},
    )
    assert result.status == "ok", result.summary
    assert result.summary.startswith("planned application.deploy of acme/acme-prod/shop/checkout")
    assert result.data["action"]["operation"] == "application.deploy"
    assert _checkout(platform, owner) == before
