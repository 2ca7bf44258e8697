"""The scaling tools on sandbox telemetry: what a user relies on when right-sizing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.domain import ActionStatus
from hexaops.platform.names import parse_cpu, parse_memory
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult, run_tool

CHECKOUT = {"workspace": "acme-prod", "project": "shop", "application": "checkout"}
SHOP = {"org": "acme", "workspace": "acme-prod", "project": "shop"}
Context = Callable[..., ToolContext]


def owner_requests(platform: Platform, kind: str, **params: Any) -> None:
    view = platform.request(platform.user("owner@acme.example"), kind, {**SHOP, **params})
    assert view.status == ActionStatus.SUCCEEDED, view.error


def ok(result: ToolResult) -> dict[str, Any]:
    assert result.status == "ok", result.summary
    assert isinstance(result.data, dict)
    return result.data


def test_cpu_saturation_gets_more_cpu_and_less_throttling(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    sim = Simulation(platform.engine)
    fault = sim.inject("cpu_saturation", "acme", "acme-prod", "checkout")
    sim.advance(10, store)
    ctx = tool_context()

    rec = ok(run_tool(ctx, "scaling_recommend", CHECKOUT))
    assert rec["kind"] == "application"
    assert rec["evidence"]["cpu_throttled_share"]["mean"] > 0.5
    current, proposed = rec["current"], rec["proposed"]
    assert (
        parse_cpu(proposed["cpu_limit"]) * proposed["replicas"]
        > parse_cpu(current["cpu_limit"]) * current["replicas"]
    )
    assert parse_cpu(proposed["cpu_request"]) > parse_cpu(current["cpu_request"])
    assert any("throttled in every CFS period" in f for f in rec["flags"])
    assert rec["rationale"]
    assert "p95" in rec["rationale"][0]

    whatif = run_tool(ctx, "scaling_whatif", CHECKOUT)
    data = ok(whatif)
    before, after = data["current"], data["proposed"]
    assert before["settings"]["cpu_limit"] == current["cpu_limit"]
    assert after["settings"]["cpu_limit"] == proposed["cpu_limit"]
    assert after["cpu_throttled_share"] < before["cpu_throttled_share"]
    assert after["p95_latency_seconds"] < before["p95_latency_seconds"]
    assert after["cost_usd"] > before["cost_usd"]  # more CPU reserved costs more
    assert "throttled" in whatif.summary
    assert {e.backend for e in whatif.evidence} == {"clickhouse", "platform"}
    query = next(e for e in whatif.evidence if e.kind == "query")
    assert "{t_org:String}" in query.query
    assert "'acme'" not in query.query
    assert query.objects == ["acme/acme-prod/shop/Deployment/checkout"]

    # The same window and settings always predict the same.
    assert ok(run_tool(ctx, "scaling_whatif", CHECKOUT)) == data

    # Applied, the pods get the CPU the load needs: the sandbox sees the fault resolved.
    actions = ok(run_tool(ctx, "scaling_apply", CHECKOUT))["actions"]
    assert [(a["operation"], a["status"]) for a in actions] == [
        ("application.deploy", ActionStatus.SUCCEEDED)
    ]
    sim.advance(1, store)
    assert sim.truth(fault)["status"] == "resolved"


def test_oom_kills_raise_the_memory_limit_and_the_whatif_predicts_fewer(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    owner_requests(
        platform,
        "application.deploy",
        name="checkout",
        image="ghcr.io/acme/checkout:1.4.2",
        replicas=2,
        cpu_request="250m",
        memory_request="256Mi",
        memory_limit="256Mi",  # tight: the leak reaches it in minutes
    )
    sim = Simulation(platform.engine)
    sim.inject("oom_memory_leak", "acme", "acme-prod", "checkout")
    sim.advance(12, store)
    ctx = tool_context()

    rec = ok(run_tool(ctx, "scaling_recommend", CHECKOUT))
    assert rec["evidence"]["oom_kills"] >= 2
    assert parse_memory(rec["proposed"]["memory_limit"]) >= 1.25 * parse_memory("256Mi")
    assert any("memory leak" in f for f in rec["flags"])
    assert "memory_limit" in rec["changes"]

    data = ok(run_tool(ctx, "scaling_whatif", CHECKOUT))
    assert data["current"]["oom_kills"] == rec["evidence"]["oom_kills"]
    assert data["proposed"]["oom_kills"] < data["current"]["oom_kills"]


def test_hpa_at_max_raises_max_replicas(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    owner_requests(platform, "application.set_hpa", name="checkout", min_replicas=2, max_replicas=3)
    sim = Simulation(platform.engine)
    fault = sim.inject("hpa_at_max", "acme", "acme-prod", "checkout")
    sim.advance(10, store)
    ctx = tool_context()

    rec = ok(run_tool(ctx, "scaling_recommend", CHECKOUT))
    hpa = rec["proposed"]["hpa"]
    assert rec["current"]["hpa"]["max_replicas"] == 3
    assert hpa["max_replicas"] > 3
    assert hpa["min_replicas"] <= hpa["max_replicas"]
    assert hpa["target_cpu_percent"] == 70
    assert rec["evidence"]["hpa"]["at_max_share"] > 0.5
    assert any("at max replicas (3)" in f for f in rec["flags"])

    data = ok(run_tool(ctx, "scaling_whatif", CHECKOUT))
    assert data["current"]["replicas"]["max"] == 3
    assert data["proposed"]["replicas"]["max"] > 3
    assert data["proposed"]["cpu_throttled_share"] < data["current"]["cpu_throttled_share"]

    # Applied, the new max lets the HPA follow the load: the sandbox sees the fault resolved.
    actions = ok(run_tool(ctx, "scaling_apply", CHECKOUT))["actions"]
    # The HPA first, then the new revision with the right-sized memory (within its bounds).
    assert [a["operation"] for a in actions] == ["application.set_hpa", "application.deploy"]
    assert {a["status"] for a in actions} == {ActionStatus.SUCCEEDED}
    sim.advance(1, store)
    assert sim.truth(fault)["status"] == "resolved"


def test_a_quiet_hpa_is_flagged_as_never_scaling(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    owner_requests(platform, "application.set_hpa", name="payments", min_replicas=2, max_replicas=6)
    Simulation(platform.engine).advance(6, store)
    args = {**CHECKOUT, "application": "payments"}
    rec = ok(run_tool(tool_context(), "scaling_recommend", args))
    assert any(f.startswith("never scales: 2 replica(s)") for f in rec["flags"])
    assert rec["proposed"]["hpa"]["min_replicas"] == 2  # kept for availability
    assert rec["evidence"]["hpa"]["at_max_share"] == 0


def test_explicit_settings_and_units(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    Simulation(platform.engine).advance(6, store)
    ctx = tool_context()
    rec = ok(run_tool(ctx, "scaling_recommend", CHECKOUT))
    for key in ("cpu_request", "cpu_limit"):
        millis = parse_cpu(rec["proposed"][key])
        assert millis % 50 == 0
        assert millis >= 50
    for key in ("memory_request", "memory_limit"):
        size = parse_memory(rec["proposed"][key])
        assert size % (16 * 2**20) == 0
        assert size >= 64 * 2**20
        assert rec["proposed"][key].endswith(("Mi", "Gi"))
    assert parse_memory(rec["proposed"]["memory_limit"]) >= 1.2 * (
        rec["evidence"]["memory_working_set_mib"]["max"] * 2**20
    )

    starved = {**CHECKOUT, "proposed": {"cpu_limit": "10m", "cpu_request": "10m"}}
    data = ok(run_tool(ctx, "scaling_whatif", starved))
    assert data["proposed"]["settings"]["cpu_limit"] == "10m"
    assert data["proposed"]["settings"]["memory_limit"] == "512Mi"  # kept
    assert data["proposed"]["cpu_throttled_share"] > data["current"]["cpu_throttled_share"]
    assert data["proposed"]["cost_usd"] < data["current"]["cost_usd"]

    short = ok(run_tool(ctx, "scaling_recommend", {**CHECKOUT, "since": "3m"}))
    assert short["evidence"]["window_minutes"] <= 3 < rec["evidence"]["window_minutes"]

    bad = run_tool(ctx, "scaling_whatif", {**CHECKOUT, "proposed": {"cpu_limit": "lots"}})
    assert bad.status == "error"
    assert bad.error_code == "invalid"
    both = run_tool(ctx, "scaling_recommend", {**CHECKOUT, "function": "thumbs"})
    assert both.status == "error"
    assert "exactly one" in both.summary


def test_an_empty_window_says_so(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    ctx = tool_context()
    for name in ("scaling_recommend", "scaling_whatif", "scaling_apply"):
        result = run_tool(ctx, name, CHECKOUT)
        assert result.status == "empty", result.summary
        assert result.summary.startswith("no usage of acme/acme-prod/shop/checkout")


@pytest.mark.parametrize("tool", ["scaling_recommend", "scaling_whatif", "scaling_apply"])
def test_another_orgs_workload_is_not_found(tool_context: Context, tool: str) -> None:
    args = {"org": "globex", "workspace": "globex-prod", "project": "web", "application": "api"}
    result = run_tool(tool_context(), tool, args)
    assert result.status == "error"
    assert result.error_code == "not_found"
    hidden = run_tool(tool_context(), tool, {**args, "org": None})
    assert hidden.status == "error"
    assert hidden.error_code == "not_found"


def test_apply_requests_actions_through_the_pipeline(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    Simulation(platform.engine).advance(6, store)
    refused = run_tool(tool_context("viewer@acme.example"), "scaling_apply", CHECKOUT)
    assert refused.status == "error"
    assert refused.error_code == "forbidden"

    dev = tool_context("dev@acme.example")
    proposed = ok(run_tool(dev, "scaling_recommend", CHECKOUT))["proposed"]
    applied = run_tool(dev, "scaling_apply", CHECKOUT)
    actions = ok(applied)["actions"]
    assert [a["operation"] for a in actions] == ["application.deploy"]
    action = actions[0]
    # A resources change is low risk: the policy approves it, and it runs.
    assert action["status"] == ActionStatus.SUCCEEDED
    assert action["approved_by"] == "policy:low-risk"
    assert action["requested_by"] == "dev@acme.example"
    assert any(e.kind == "action" and e.objects == [str(action["id"])] for e in applied.evidence)
    app = platform.applications(platform.user("dev@acme.example"), "acme-prod", "shop", "acme")
    checkout = next(a for a in app if a.name == "checkout")
    assert checkout.resources["cpu_limit"] == proposed["cpu_limit"]
    assert checkout.resources["memory_request"] == proposed["memory_request"]
    assert checkout.image == "ghcr.io/acme/checkout:1.4.2"

    again = run_tool(dev, "scaling_apply", {**CHECKOUT, "proposed": {}})
    assert again.status == "empty"  # nothing left to change


def test_apply_sets_the_hpa(platform: Platform, tool_context: Context) -> None:
    args = {**CHECKOUT, "proposed": {"min_replicas": 2, "max_replicas": 5}}
    actions = ok(run_tool(tool_context("dev@acme.example"), "scaling_apply", args))["actions"]
    assert [a["operation"] for a in actions] == ["application.set_hpa"]
    app = platform.applications(platform.user("dev@acme.example"), "acme-prod", "shop", "acme")
    hpa = next(a for a in app if a.name == "checkout").autoscaling
    assert hpa == {"min_replicas": 2, "max_replicas": 5, "target_cpu_percent": 70}


def test_function_concurrency(
    platform: Platform, store: ClickHouseStore, tool_context: Context
) -> None:
    owner_requests(platform, "function.deploy", name="thumbs")
    owner_requests(platform, "function.set_scaling", name="thumbs", concurrency=1, max_instances=1)
    Simulation(platform.engine).advance(8, store)
    ctx = tool_context()
    args = {"workspace": "acme-prod", "project": "shop", "function": "thumbs"}

    rec = ok(run_tool(ctx, "scaling_recommend", args))
    assert rec["kind"] == "function"
    assert rec["current"] == {"concurrency": 1, "max_instances": 1}
    assert rec["evidence"]["rejected_429_share"] > 0
    assert rec["proposed"]["max_instances"] > 1
    assert any("rejected (429)" in f for f in rec["flags"])

    data = ok(run_tool(ctx, "scaling_whatif", args))
    assert data["proposed"]["rejected_429"] < data["current"]["rejected_429"]
    assert data["proposed"]["rejected_429"] == 0

    actions = ok(run_tool(ctx, "scaling_apply", args))["actions"]
    assert [a["operation"] for a in actions] == ["function.set_scaling"]
    assert actions[0]["status"] == ActionStatus.SUCCEEDED


class _DownClient:
    """A ClickHouse client whose server does not answer."""

    def query(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("connection refused")


def test_a_telemetry_outage_is_an_actionable_error(
    store: ClickHouseStore, tool_context: Context
) -> None:
    down = ClickHouseStore.__new__(ClickHouseStore)  # no schema to create on a dead server
    down.client, down.database = _DownClient(), store.database  # type: ignore[assignment]
    result = run_tool(tool_context(resources={"telemetry": down}), "scaling_recommend", CHECKOUT)
    assert result.status == "error"
    assert result.error_code == "backend_unavailable"
    assert "retry" in result.summary


def test_apply_plans_without_changing_and_a_retried_call_requests_once(
    platform: Platform, tool_context: Context
) -> None:
    args = {**CHECKOUT, "proposed": {"min_replicas": 2, "max_replicas": 5}}
    dev = tool_context("dev@acme.example")

    planned = ok(run_tool(dev, "scaling_apply", {**args, "dry_run": True}, call_id="s/1"))
    assert planned["action"]["operation"] == "application.set_hpa"
    assert planned["action"]["id"] is None  # a plan: nothing recorded, nothing changed
    assert _autoscaling(platform) is None

    first = ok(run_tool(dev, "scaling_apply", args, call_id="s/1"))
    again = run_tool(dev, "scaling_apply", args, call_id="s/1")
    assert again.status == "empty"  # applied already: nothing requested twice
    recorded = platform.action_by_key(platform.user("dev@acme.example"), "tool:s/1")
    assert recorded is not None
    assert recorded.id == first["action"]["id"]
    assert _autoscaling(platform) == {
        "min_replicas": 2,
        "max_replicas": 5,
        "target_cpu_percent": 70,
    }


def test_a_change_of_two_actions_is_not_planned_as_one(tool_context: Context) -> None:
    proposed = {"min_replicas": 2, "max_replicas": 5, "cpu_limit": "900m"}
    dev = tool_context("dev@acme.example")
    planned = run_tool(dev, "scaling_apply", {**CHECKOUT, "proposed": proposed, "dry_run": True})
    assert planned.status == "error"
    assert "two platform actions" in planned.summary


def _autoscaling(platform: Platform) -> dict[str, Any] | None:
    apps = platform.applications(platform.user("dev@acme.example"), "acme-prod", "shop", "acme")
    return next(a for a in apps if a.name == "checkout").autoscaling
