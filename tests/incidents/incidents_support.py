"""Helpers of the incident tests: inject a sandbox fault, raise its alert, build a remediator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexaops.incidents.faults import alert_for_fault
from hexaops.incidents.intake import ingest
from hexaops.incidents.policies import parse, set_policy
from hexaops.incidents.workflow import Remediator
from hexaops.platform.core import Platform
from hexaops.platform.drivers.contract import WorkloadRef
from hexaops.platform.sandbox import Simulation
from hexaops.platform.seed import APPS
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings

ORG, WS, NS = "acme", "acme-prod", "shop"
OWNER = "owner@acme.example"
ALL_FIXES = [
    "application.rollback",
    "application.restart",
    "application.scale",
    "application.deploy",
    "application.set_hpa",
    "project.update_quota",
    "node.drain",
    "certificate.renew",
    "pod.delete",
    "workspace.restart_dns",
]


def core(platform: Platform, kind: str, **params: Any) -> None:
    """A change as the owner (approving it when it waits)."""
    owner = platform.user(OWNER)
    where = {"name": WS} if kind.startswith("workspace.") else {"workspace": WS}
    args = {"org": ORG, **where, **params}
    if kind.startswith(("application.", "pod.", "certificate.", "network_policy.")):
        args["project"] = NS
    view = platform.request(owner, kind, args)
    if view.status == "pending":
        assert view.id is not None
        view = platform.approve(owner, view.id)
    assert view.status == "succeeded", view


def rollout(platform: Platform, app: str = "checkout") -> None:
    """A second revision of `app`, so a rollback has somewhere to go."""
    image, _, cpu, memory, memory_limit = APPS[app]
    core(
        platform,
        "application.deploy",
        name=app,
        image=image.rpartition(":")[0] + ":9.9.9",
        cpu_request=cpu,
        memory_request=memory,
        memory_limit=memory_limit,
    )


def hpa(platform: Platform) -> None:
    core(platform, "application.set_hpa", name="checkout", min_replicas=2, max_replicas=4)


def first_pod(platform: Platform, app: str) -> str:
    found = platform.driver.get_application(
        WorkloadRef(org=ORG, workspace=WS, namespace=NS, name=app)
    )
    assert found is not None
    return found.pods[0].name


def first_node(platform: Platform) -> str:
    found = platform.driver.get_application(
        WorkloadRef(org=ORG, workspace=WS, namespace=NS, name="checkout")
    )
    assert found is not None
    node = found.pods[0].node
    assert node
    return node


@dataclass
class Case:
    kind: str
    target: str  # "shop/app", "POD:app", "NODE", or the workspace
    minutes: float = 3
    setup: str | None = None  # rollout | hpa
    cause: str = ""  # the hypothesis the investigation should rank first
    workload: str = ""  # … on this object


def allow(platform: Platform, operations: list[str] = ALL_FIXES) -> None:
    policy = parse(ORG, {"name": "allow-fixes", "rules": [{"operation": o} for o in operations]})
    set_policy(platform, platform.user(OWNER), ORG, policy)


def inject_and_alert(platform: Platform, store: ClickHouseStore, case: Case) -> tuple[int, int]:
    """(fault id, incident id): set up, inject, advance, raise the alert the fault raises."""
    if case.setup and case.setup.startswith("rollout"):
        rollout(platform, case.setup.partition(":")[2] or "checkout")
    elif case.setup == "hpa":
        hpa(platform)
    target = case.target
    if target.startswith("POD:"):
        target = f"{NS}/{first_pod(platform, target[4:])}"
    elif target == "NODE":
        target = first_node(platform)
    sim = Simulation(platform.engine)
    fault = sim.inject(case.kind, ORG, WS, target)
    sim.advance(case.minutes, store)
    apps = [(NS, a.name) for a in platform.applications(platform.user(OWNER), WS, NS, ORG)]
    alert = alert_for_fault(sim.truth(fault), sim.now(), apps)
    report = ingest(platform, [alert])
    assert report.opened, report.results
    return fault, report.opened[0]


def remediator(platform: Platform, store: ClickHouseStore, home: Path, **kwargs: Any) -> Remediator:
    return Remediator(platform, Settings(home=home), resources={"telemetry": store}, **kwargs)


def automation_actions(platform: Platform) -> list[str]:
    """`operation:status` of every action the incidents' automation principal requested."""
    owner = platform.user(OWNER)
    return [
        f"{a.operation}:{a.status}"
        for a in platform.list_actions(owner, ORG, limit=200)
        if a.requested_by.startswith("automation:incidents@")
    ]
