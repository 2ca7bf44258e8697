"""diagnose on the faults only telemetry shows: CPU saturation, a noisy neighbour, an error
spike after a rollout, a slow dependency. Each is found on the object at fault — the cause,
not its symptoms — from metrics and logs, with the numbers behind it and the platform
operation that would fix it; a healthy (even freshly rolled-out) workspace raises none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.operations import OPERATIONS
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult, run_tool
from hexaops.tools.diagnostics.scope import sample_of

ORG, WS, NS = "acme", "acme-prod", "shop"
TELEMETRY_ANALYZERS = {
    "cpu_saturation",
    "noisy_neighbour",
    "error_spike_after_deploy",
    "slow_dependency",
}
BEFORE, AFTER = 6, 6  # minutes: a healthy "before" the trend compares with, then the fault


def release_payments(platform: Platform) -> None:
    """The owner rolls out payments 3.1.0 (revision 2) through the action pipeline."""
    owner = platform.user("owner@acme.example")
    params = {"org": ORG, "workspace": WS, "project": NS, "name": "payments"}
    view = platform.request(
        owner,
        "application.deploy",
        {**params, "image": "ghcr.io/acme/payments:3.1.0", "replicas": 2},
    )
    if view.status == "pending":
        assert view.id is not None
        view = platform.approve(owner, view.id)
    assert view.status == "succeeded", view


@dataclass
class Case:
    fault: str
    target: str
    analyzer: str
    in_title: tuple[str, ...]  # what the finding must name
    step: str  # the platform operation its first suggestion names
    rollout: bool = False


CASES = [
    Case(
        "cpu_saturation",
        "frontend",
        "cpu_saturation",
        ("frontend", "CPU limit"),
        "application.scale",
    ),
    Case(
        "noisy_neighbour",
        "catalog",
        "noisy_neighbour",
        ("noisy neighbour catalog", "starving", "payments"),
        "application.deploy",
    ),
    Case(
        "bad_deploy_error_spike",
        "payments",
        "error_spike_after_deploy",
        ("payments revision 2", "3.1.0", "5xx"),
        "application.rollback",
        rollout=True,
    ),
    Case(
        "slow_dependency",
        "payments",
        "slow_dependency",
        ("slow dependency payments", "checkout"),
        "application.restart",
    ),
]


def diagnose(ctx: ToolContext, **args: Any) -> ToolResult:
    return run_tool(ctx, "diagnose", {"workspace": WS, **args})


def faulty(platform: Platform, store: ClickHouseStore, case: Case) -> None:
    sim = Simulation(platform.engine)
    if case.rollout:
        release_payments(platform)
    sim.advance(BEFORE, store)
    sim.inject(case.fault, ORG, WS, case.target)
    sim.advance(AFTER, store)


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_diagnose_names_the_cause_from_telemetry(
    case: Case,
    platform: Platform,
    store: ClickHouseStore,
    tool_context: Callable[..., ToolContext],
) -> None:
    faulty(platform, store, case)

    result = diagnose(tool_context("viewer@acme.example"))

    assert result.status == "ok", result.summary
    found = [f for f in result.data["findings"] if f["analyzer"] in TELEMETRY_ANALYZERS]
    # One finding, on the object at fault: the callers and neighbours it slows are symptoms.
    assert [(f["analyzer"], f["object"]) for f in found] == [
        (case.analyzer, f"{ORG}/{WS}/{NS}/Deployment/{case.target}")
    ], result.summary
    finding = found[0]
    assert finding["severity"] == "critical"
    for text in case.in_title:
        assert text in finding["title"], finding["title"]
    assert finding["next_steps"][0].startswith(case.step + " ")
    assert all(step.split(" ")[0] in OPERATIONS for step in finding["next_steps"])
    # Evidence: each number with its query and window, and the value before where it moved.
    metrics = [e for e in finding["evidence"] if e["kind"] == "metric"]
    assert metrics
    for item in metrics:
        assert "rate(" in item["name"]
        assert item["window"] == "rates over the last 5m"
        assert isinstance(item["value"], float)
        assert item["at"]
    assert any("before" in item for item in metrics)
    # Nothing else explains it: the diagnosis leads with the cause.
    assert result.data["findings"][0] == finding
    assert finding["title"] in result.summary


def test_each_finding_carries_its_numbers(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    """cpu saturation: at the limit, throttled, slower than before; the spike: 5xx then and now."""
    faulty(platform, store, CASES[0])
    finding = next(
        f for f in diagnose(tool_context()).data["findings"] if f["analyzer"] == "cpu_saturation"
    )
    signals = {e["name"].split(":")[0]: e for e in finding["evidence"]}
    cpu = signals["cpu used / limit"]
    assert cpu["value"] >= 0.9
    assert cpu["cpu_cores"] >= 0.9 * cpu["cpu_limit_cores"] > 0
    assert signals["throttled share"]["value"] >= 0.25
    latency = signals["mean latency seconds"]
    assert latency["value"] >= 2 * latency["before"]


def test_noisy_neighbour_names_the_victims_and_is_not_called_saturation(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    faulty(platform, store, CASES[1])
    ctx = tool_context()
    # Diagnosing a victim alone still names the neighbour that starves it.
    result = diagnose(ctx, application="payments")
    by_analyzer = {f["analyzer"]: f for f in result.data["findings"]}
    assert "cpu_saturation" not in by_analyzer
    noisy = by_analyzer["noisy_neighbour"]
    assert noisy["object"] == f"{ORG}/{WS}/{NS}/Deployment/catalog"
    roles = {
        e["labels"]["deployment"]: e["labels"]["role"] for e in noisy["evidence"] if "labels" in e
    }
    assert roles["catalog"] == "neighbour"
    assert roles["payments"] == "victim"
    assert "lower cpu_limit" in noisy["next_steps"][0]


def test_a_caller_diagnosed_alone_points_at_its_slow_dependency(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    faulty(platform, store, CASES[3])
    result = diagnose(tool_context(), application="checkout")
    slow = [f for f in result.data["findings"] if f["analyzer"] == "slow_dependency"]
    assert [f["object"] for f in slow] == [f"{ORG}/{WS}/{NS}/Deployment/payments"]
    assert {"metric", "logs"} <= {e["kind"] for e in slow[0]["evidence"]}


def test_network_policy_blocking_is_found_for_the_blocked_application(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    """The timeouts are in the callers' logs: a diagnosis of payments alone still sees them."""
    sim = Simulation(platform.engine)
    sim.inject("network_policy_blocking", ORG, WS, "payments")
    sim.advance(1, store)
    ctx = tool_context("viewer@acme.example")
    for args in ({"application": "payments"}, {"project": NS, "application": "payments"}):
        result = diagnose(ctx, **args)
        blocked = [f for f in result.data["findings"] if f["analyzer"] == "network_policy_blocking"]
        assert [f["object"] for f in blocked] == [f"{ORG}/{WS}/{NS}/Deployment/payments"], args
        assert "deny-ingress-payments" in blocked[0]["title"]
    # An application that neither calls nor is the blocked one is not told about it.
    unrelated = diagnose(ctx, application="catalog")
    assert not [f for f in unrelated.data["findings"] if f["analyzer"] == "network_policy_blocking"]


def test_a_healthy_rollout_and_steady_traffic_raise_no_telemetry_alarm(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    release_payments(platform)  # a good revision: no 5xx rise, so nothing to blame it for
    Simulation(platform.engine).advance(BEFORE + AFTER, store)
    ctx = tool_context("viewer@acme.example")
    for args in ({}, {"application": "payments"}, {"application": "checkout"}):
        result = diagnose(ctx, **args)
        assert result.status == "empty", (args, result.summary)
        assert result.data["checked"]["not_checked"] == []
    assert set(result.data["checked"]["analyzers"]) >= TELEMETRY_ANALYZERS


def test_a_trend_compares_the_window_start_with_its_end() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    minute = timedelta(minutes=1)
    # A counter at 1/s for 5 minutes, then 10/s: rate 10, base 1.
    points = [(t0 + i * minute, 60.0 * i) for i in range(6)]
    points += [(t0 + (5 + i) * minute, 300.0 + 600.0 * i) for i in range(1, 7)]
    sample = sample_of("m", NS, "p", {}, points)
    assert sample.rate == pytest.approx(10.0)
    assert sample.base_rate == pytest.approx(1.0)
    # Too short for "before" and "now" not to overlap: no base.
    assert sample_of("m", NS, "p", {}, points[:8]).base_rate is None


@pytest.mark.parametrize("case", [CASES[0], CASES[2]], ids=["cpu_saturation", "error_spike"])
def test_trouble_older_than_the_window_is_still_found(
    case: Case,
    platform: Platform,
    store: ClickHouseStore,
    tool_context: Callable[..., ToolContext],
) -> None:
    """When the window starts after the fault did, "before" is as bad as now: still found."""
    sim = Simulation(platform.engine)
    if case.rollout:
        release_payments(platform)
    sim.inject(case.fault, ORG, WS, case.target)
    sim.advance(BEFORE + AFTER, store)
    result = diagnose(tool_context(), since="11m")
    found = [f for f in result.data["findings"] if f["analyzer"] == case.analyzer]
    assert [f["object"] for f in found] == [f"{ORG}/{WS}/{NS}/Deployment/{case.target}"]
    signals = {e["name"].split(":")[0]: e for e in found[0]["evidence"] if e["kind"] == "metric"}
    if case.rollout:
        assert signals["5xx ratio"]["before"] >= 0.05
        assert "already" in found[0]["detail"]
    else:
        assert signals["mean latency seconds"]["before"] >= 0.5
