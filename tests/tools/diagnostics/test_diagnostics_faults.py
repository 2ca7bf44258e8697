"""diagnose on sandbox faults: each fault an analyzer covers is found on the object at fault,
with evidence and suggested operations, from what the cluster shows; a healthy workspace
raises no alarm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.drivers.contract import WorkloadRef
from hexaops.platform.operations import OPERATIONS
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult, run_tool

ORG, WS, NS = "acme", "acme-prod", "shop"
RANK = {"critical": 0, "warning": 1, "info": 2}


def checkout(platform: Platform) -> Any:
    app = platform.driver.get_application(
        WorkloadRef(org=ORG, workspace=WS, namespace=NS, name="checkout")
    )
    assert app is not None
    return app


def set_hpa(platform: Platform) -> None:
    """hpa_at_max needs an HPA: the owner sets one through the action pipeline."""
    owner = platform.user("owner@acme.example")
    params = {"org": ORG, "workspace": WS, "project": NS, "name": "checkout"}
    view = platform.request(
        owner, "application.set_hpa", {**params, "min_replicas": 2, "max_replicas": 4}
    )
    if view.status == "pending":
        assert view.id is not None
        view = platform.approve(owner, view.id)
    assert view.status == "succeeded", view


@dataclass
class Case:
    fault: str
    target: Callable[[Platform], str]
    minutes: float
    expected: dict[str, str]  # analyzer → object (after "acme/acme-prod/")
    severity: str = "critical"  # of the first expected analyzer's finding
    setup: Callable[[Platform], None] | None = None
    evidence: set[str] = field(default_factory=set)  # evidence kinds the first finding carries


def node(platform: Platform) -> str:
    return str(checkout(platform).pods[0].node)


def pod(platform: Platform) -> str:
    return str(checkout(platform).pods[0].name)


def named(name: str) -> Callable[[Platform], str]:
    return lambda _: name


CASES = [
    Case(
        "crashloop_bad_config",
        named("checkout"),
        1,
        {
            "crashloop": "shop/Deployment/checkout",
            "deployment_unavailable": "shop/Deployment/checkout",
            "service_without_endpoints": "shop/Service/checkout",
        },
        evidence={"pod", "event", "logs"},
    ),
    # frontend leaks to its 256Mi limit in under 12 minutes (checkout would take 23).
    Case(
        "oom_memory_leak",
        named("frontend"),
        12,
        {"oom_killed": "shop/Deployment/frontend"},
        evidence={"pod", "event", "metric"},
    ),
    Case(
        "image_pull_backoff",
        named("checkout"),
        1,
        {"image_pull": "shop/Deployment/checkout"},
        severity="warning",
        evidence={"pod", "event"},
    ),
    Case(
        "quota_exhausted",
        named("checkout"),
        1,
        {"quota_exceeded": "shop/Deployment/checkout"},
        severity="warning",
        evidence={"event", "pod", "quota"},
    ),
    Case(
        "liveness_probe_misconfigured",
        named("checkout"),
        1,
        {"probe_failure": "shop/Deployment/checkout"},
        evidence={"pod", "event"},
    ),
    Case("node_memory_pressure", node, 1, {"node_pressure": "Node/{target}"}, evidence={"metric"}),
    Case("node_disk_pressure", node, 1, {"node_pressure": "Node/{target}"}, evidence={"metric"}),
    # 1.25 minutes: the HPA scales up at the end of minute 1, a tick before the advance ends.
    Case(
        "hpa_at_max",
        named("checkout"),
        1.25,
        {"hpa": "shop/HorizontalPodAutoscaler/checkout"},
        severity="warning",
        setup=set_hpa,
        evidence={"hpa", "metric"},
    ),
    Case(
        "certificate_expiry",
        named("checkout"),
        1,
        {"certificate_expiry": "shop/Certificate/checkout-tls"},
        evidence={"certificate", "event", "logs"},
    ),
    Case(
        "network_policy_blocking",
        named("checkout"),
        1,
        {"network_policy_blocking": "shop/Deployment/checkout"},
        evidence={"network_policies", "logs"},
    ),
    Case("disk_full", pod, 1, {"disk_full": "shop/Pod/{target}"}, evidence={"logs", "metric"}),
    Case(
        "dns_failure",
        named(WS),
        1,
        {"dns_failure": "kube-system/Deployment/coredns"},
        evidence={"component", "logs"},
    ),
]


def diagnose(ctx: ToolContext, **args: Any) -> ToolResult:
    return run_tool(ctx, "diagnose", {"workspace": WS, **args})


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_diagnose_finds_the_fault(
    case: Case,
    platform: Platform,
    store: ClickHouseStore,
    tool_context: Callable[..., ToolContext],
) -> None:
    if case.setup is not None:
        case.setup(platform)
    target = case.target(platform)
    sim = Simulation(platform.engine)
    sim.inject(case.fault, ORG, WS, target)
    sim.advance(case.minutes, store)

    owner = platform.user("owner@acme.example")
    actions = len(platform.list_actions(owner, ORG))

    result = diagnose(tool_context("viewer@acme.example"))

    assert result.status == "ok", result.summary
    findings = result.data["findings"]
    by_analyzer = {f["analyzer"]: f for f in findings}
    for analyzer, obj in case.expected.items():
        assert analyzer in by_analyzer, (analyzer, result.summary)
        assert by_analyzer[analyzer]["object"] == f"{ORG}/{WS}/" + obj.format(target=target)
    first = by_analyzer[next(iter(case.expected))]
    assert first["severity"] == case.severity
    assert case.evidence <= {e["kind"] for e in first["evidence"]}, first["evidence"]
    # Suggestions name platform operations; diagnosing requested none.
    assert first["next_steps"]
    for step in first["next_steps"]:
        assert step.split(" ")[0] in OPERATIONS, step
    assert len(platform.list_actions(owner, ORG)) == actions
    # Ranked: most severe first, and the summary leads with it.
    assert [RANK[f["severity"]] for f in findings] == sorted(RANK[f["severity"]] for f in findings)
    assert findings[0]["title"] in result.summary
    assert result.summary.split(" ")[0] == str(len(findings))


def test_a_healthy_workspace_raises_no_alarm(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    Simulation(platform.engine).advance(2, store)
    ctx = tool_context("viewer@acme.example")
    for workspace in (WS, "acme-staging"):
        result = run_tool(ctx, "diagnose", {"workspace": workspace})
        assert result.status == "empty", result.data
        assert result.data["findings"] == []
        assert result.data["checked"]["not_checked"] == []
        assert "no problems found" in result.summary
