"""Platform tools: reads as the principal, and writes that only ever request actions."""

from __future__ import annotations

from collections.abc import Callable

from hexaops.platform.operations import OPERATIONS
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

Ctx = Callable[..., ToolContext]
CHECKOUT = {"workspace": "acme-staging", "project": "shop", "name": "checkout"}


def test_every_operation_has_a_write_tool_and_reads_do_not_write() -> None:
    tools = all_tools()
    for kind in OPERATIONS:
        found = tools["platform_" + kind.replace(".", "_")]
        assert found.writes, kind
        assert f"`{kind}`" in found.description
        assert found.input_schema()["additionalProperties"] is False
    reads = [t for t in tools.values() if t.toolset == "platform" and not t.writes]
    assert {t.name for t in reads} >= {
        "platform_organizations",
        "platform_workspaces",
        "platform_projects",
        "platform_workloads",
        "platform_actions",
        "platform_action",
        "platform_recent_changes",
        "platform_members",
        "platform_audit",
    }


def test_reads_see_only_the_principals_organization(tool_context: Ctx) -> None:
    ctx = tool_context("dev@acme.example")
    workloads = run_tool(ctx, "platform_workloads", {"workspace": "acme-prod", "project": "shop"})
    assert workloads.status == "ok"
    names = {a["name"] for a in workloads.data["applications"]}
    assert "checkout" in names
    assert "acme/acme-prod/shop/Deployment/checkout" in workloads.evidence[0].objects
    hidden = run_tool(ctx, "platform_projects", {"workspace": "globex-prod"})
    assert hidden.status == "error"
    assert hidden.error_code == "not_found"
    assert "globex" not in str(hidden.data)


def test_a_write_tool_requests_an_action_through_the_pipeline(tool_context: Ctx) -> None:
    dev = tool_context("dev@acme.example")
    scaled = run_tool(dev, "platform_application_scale", {**CHECKOUT, "replicas": 3})
    assert scaled.status == "ok"
    assert scaled.data["status"] == "succeeded"
    assert scaled.data["requested_by"] == "dev@acme.example"
    assert f"action/{scaled.data['id']}" in scaled.evidence[0].objects

    deleting = run_tool(dev, "platform_application_delete", CHECKOUT)
    assert deleting.data["status"] == "pending"
    assert "waits for approval" in deleting.summary
    apps = run_tool(dev, "platform_workloads", {"workspace": "acme-staging", "project": "shop"})
    assert "checkout" in {a["name"] for a in apps.data["applications"]}

    changes = run_tool(dev, "platform_recent_changes", {"workspace": "acme-staging"})
    assert changes.data[0]["action_id"] == scaled.data["id"]
    assert changes.data[0]["outcome"] == "succeeded"

    refused = run_tool(dev, "platform_audit", {})
    assert refused.error_code == "forbidden"
    audit = run_tool(tool_context("owner@acme.example"), "platform_audit", {"limit": 5})
    assert audit.data[0]["action_id"] == deleting.data["id"]
    assert audit.data[0]["event"] == "action.pending"


def test_dry_run_plans_and_changes_nothing(tool_context: Ctx) -> None:
    dev = tool_context("dev@acme.example")
    planned = run_tool(
        dev, "platform_application_scale", {**CHECKOUT, "replicas": 5, "dry_run": True}
    )
    assert planned.status == "ok"
    assert planned.data["id"] is None
    assert planned.summary.startswith("dry run")
    apps = run_tool(dev, "platform_workloads", {"workspace": "acme-staging", "project": "shop"})
    checkout = next(a for a in apps.data["applications"] if a["name"] == "checkout")
    assert checkout["replicas"] != 5


def test_a_retried_call_returns_the_same_action(tool_context: Ctx) -> None:
    dev = tool_context("dev@acme.example")
    args = {**CHECKOUT, "replicas": 4}
    first = run_tool(dev, "platform_application_scale", args, call_id="toolu_01")
    again = run_tool(dev, "platform_application_scale", args, call_id="toolu_01")
    assert again.data["id"] == first.data["id"]
    assert again.data["replayed"] is True
    # another call is another request: here a no-op the pipeline refuses
    other = run_tool(dev, "platform_application_scale", args, call_id="toolu_02")
    assert other.status == "error"
    assert "already has 4 replica(s)" in other.summary


def test_a_viewer_may_read_but_not_request(tool_context: Ctx) -> None:
    viewer = tool_context("viewer@acme.example")
    assert run_tool(viewer, "platform_workspaces", {}).status == "ok"
    refused = run_tool(viewer, "platform_application_restart", CHECKOUT)
    assert refused.status == "error"
    assert refused.error_code == "forbidden"
    assert "viewer" in refused.summary


def test_invalid_operation_parameters_are_explained(tool_context: Ctx) -> None:
    dev = tool_context("dev@acme.example")
    negative = run_tool(dev, "platform_application_scale", {**CHECKOUT, "replicas": -1})
    assert negative.status == "error"
    assert "replicas" in negative.summary
    bad_image = run_tool(
        dev, "platform_application_deploy", {**CHECKOUT, "image": "Not An Image", "replicas": 1}
    )
    assert bad_image.status == "error"
    assert "image" in bad_image.summary
