"""Every fault kind: its documented symptoms show up, a wrong mitigation leaves it, the documented
mitigation — a platform-core operation, as the LLM or a person would request it — resolves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sandbox_support import CollectingSink

from hexaops.platform.core import Platform
from hexaops.platform.drivers.contract import WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import CATALOG, Simulation
from hexaops.platform.seed import APPS

ORG, WS, NS = "acme", "acme-prod", "shop"
OWNER = "owner@acme.example"
POOL = WorkspaceRef(org=ORG, workspace=WS).host_namespace + "-pool"

Step = Callable[[Platform, SandboxDriver, dict[str, Any]], None]


IN_PROJECT = ("application.", "pod.", "certificate.", "network_policy.")


def core(kind: str, **params: Any) -> Step:
    """A mitigation through the platform core, as the owner (who also approves risky ones)."""

    def run(platform: Platform, driver: SandboxDriver, truth: dict[str, Any]) -> None:
        resolved = {k: (v(truth) if callable(v) else v) for k, v in params.items()}
        where = {"name": WS} if kind.startswith("workspace.") else {"workspace": WS}
        args = {"org": ORG, **where, **resolved}
        if kind.startswith(IN_PROJECT):
            args["project"] = NS
        owner = platform.user(OWNER)
        view = platform.request(owner, kind, args)
        if view.status == "pending":
            assert view.id is not None
            view = platform.approve(owner, view.id)
        assert view.status == "succeeded", view

    return run


def rollout(name: str, image: str) -> Step:
    """Roll out a second revision, so that the fault has a revision to roll back from."""
    _, _, cpu, memory, memory_limit = APPS[name]
    return core(
        "application.deploy",
        name=name,
        image=image,
        cpu_request=cpu,
        memory_request=memory,
        memory_limit=memory_limit,
    )


def wl(name: str) -> WorkloadRef:
    return WorkloadRef(org=ORG, workspace=WS, namespace=NS, name=name)


def first_pod(driver: SandboxDriver, name: str) -> str:
    app = driver.get_application(wl(name))
    assert app is not None
    return app.pods[0].name


@dataclass
class Case:
    kind: str
    target: str | Callable[[SandboxDriver], str]
    symptom: Callable[[CollectingSink], bool]
    wrong: Step
    right: Step
    setup: Step | None = None
    minutes: int = 15


def _restarts(sink: CollectingSink, container: str) -> float:
    return max(sink.last("kube_pod_container_status_restarts_total", container=container).values())


def _error_ratio(sink: CollectingSink, container: str) -> float:
    bad = sum(sink.last("http_requests_total", container=container, code="500").values())
    ok = sum(sink.last("http_requests_total", container=container, code="200").values())
    return bad / max(bad + ok, 1.0)


def _drain(node: str) -> Step:
    """node.drain is high risk: requested, then approved, and it must evict something."""

    def run(platform: Platform, driver: SandboxDriver, truth: dict[str, Any]) -> None:
        owner = platform.user(OWNER)
        view = platform.request(owner, "node.drain", {"org": ORG, "workspace": WS, "node": node})
        assert view.status == "pending", view
        assert view.id is not None
        done = platform.approve(owner, view.id)
        assert done.status == "succeeded", done
        assert done.result is not None
        assert done.result["evicted"] > 0

    return run


CASES = [
    Case(
        "oom_memory_leak",
        "shop/checkout",
        lambda s: (
            _restarts(s, "checkout") > 0
            and max(
                v for *_, v in s.values("container_memory_working_set_bytes", container="checkout")
            )
            > 0.9 * 512 * 2**20
        ),
        wrong=core("application.restart", name="checkout"),
        right=core("application.rollback", name="checkout"),
        setup=rollout("checkout", "ghcr.io/acme/checkout:1.5.0"),
        minutes=40,
    ),
    Case(
        "crashloop_bad_config",
        "shop/checkout",
        lambda s: (
            _restarts(s, "checkout") >= 2
            and s.last("kube_deployment_status_replicas_available", deployment="checkout")[""] == 0
        ),
        wrong=core("application.scale", name="checkout", replicas=3),
        right=core("application.rollback", name="checkout"),
        setup=rollout("checkout", "ghcr.io/acme/checkout:1.5.0"),
    ),
    Case(
        "image_pull_backoff",
        "shop/checkout",
        lambda s: (
            sum(s.last("kube_pod_status_phase", container="checkout", phase="Pending").values())
            >= 1
        ),
        wrong=core("application.restart", name="checkout"),
        right=core("application.rollback", name="checkout"),
        setup=rollout("checkout", "ghcr.io/acme/checkout:1.5.0-typo"),
    ),
    Case(
        "cpu_saturation",
        "shop/catalog",
        lambda s: (
            min(s.last("container_cpu_cfs_throttled_periods_total", container="catalog").values())
            > 1000
        ),
        wrong=core("application.restart", name="catalog"),
        right=core(
            "application.scale",
            name="catalog",
            replicas=lambda t: t["details"]["needed_replicas"],
        ),
    ),
    Case(
        "quota_exhausted",
        "shop/checkout",
        lambda s: (
            sum(s.last("kube_pod_status_phase", container="checkout", phase="Pending").values())
            == 1
        ),
        wrong=core("application.restart", name="checkout"),
        right=core("project.update_quota", name=NS, cpu="8", pods=80),
    ),
    Case(
        "node_memory_pressure",
        f"{POOL}-1",
        lambda s: (
            max(
                s.last(
                    "kube_node_status_condition", workspace=WS, condition="MemoryPressure"
                ).values()
            )
            == 1
        ),
        wrong=core("node.cordon", node=f"{POOL}-1"),
        right=_drain(f"{POOL}-1"),
    ),
    Case(
        "node_disk_pressure",
        f"{POOL}-2",
        lambda s: (
            max(
                s.last(
                    "kube_node_status_condition", workspace=WS, condition="DiskPressure"
                ).values()
            )
            == 1
        ),
        wrong=core("application.restart", name="frontend"),
        right=_drain(f"{POOL}-2"),
    ),
    Case(
        "noisy_neighbour",
        "shop/catalog",
        lambda s: (
            max(s.last("container_cpu_cfs_throttled_periods_total", container="frontend").values())
            > 100
        ),
        wrong=core("application.restart", name="frontend"),
        right=core(
            "application.deploy",
            name="catalog",
            image="ghcr.io/acme/catalog:1.9.0",
            cpu_request="200m",
            cpu_limit="250m",
            memory_request="256Mi",
            memory_limit="512Mi",
        ),
    ),
    Case(
        "hpa_at_max",
        "shop/checkout",
        lambda s: (
            s.last("kube_horizontalpodautoscaler_status_current_replicas", workspace=WS)[""] == 4
        ),
        wrong=core("application.restart", name="checkout"),
        right=core(
            "application.set_hpa",
            name="checkout",
            min_replicas=2,
            max_replicas=lambda t: t["details"]["needed_max_replicas"],
        ),
        setup=core("application.set_hpa", name="checkout", min_replicas=2, max_replicas=4),
    ),
    Case(
        "bad_deploy_error_spike",
        "shop/checkout",
        lambda s: _error_ratio(s, "checkout") > 0.1,
        wrong=core("application.scale", name="checkout", replicas=3),
        right=core("application.rollback", name="checkout"),
        setup=rollout("checkout", "ghcr.io/acme/checkout:1.5.0"),
    ),
    Case(
        "slow_dependency",
        "shop/payments",
        lambda s: _mean_latency(s, "checkout") > 1.0,
        wrong=core("application.scale", name="payments", replicas=3),
        right=core("application.restart", name="payments"),
    ),
    Case(
        "certificate_expiry",
        "shop/frontend",
        lambda s: _error_ratio(s, "frontend") > 0.3,
        wrong=core("application.restart", name="frontend"),
        right=core("certificate.renew", name="frontend-tls"),
    ),
    Case(
        "vulnerable_image",
        "shop/payments",
        lambda s: (
            s.last("trivy_image_vulnerabilities", container="", severity="Critical").get("", 0) >= 2
        ),
        wrong=core("application.restart", name="payments"),
        right=core(
            "application.deploy",
            name="payments",
            image="ghcr.io/acme/payments:3.0.8",
            cpu_request="250m",
            memory_request="256Mi",
            memory_limit="512Mi",
        ),
    ),
    Case(
        "network_policy_blocking",
        "shop/payments",
        lambda s: _error_ratio(s, "checkout") > 0.3,
        wrong=core("application.restart", name="payments"),
        right=core("network_policy.delete", name="deny-ingress-payments"),
    ),
    Case(
        "disk_full",
        lambda d: f"shop/{first_pod(d, 'catalog')}",
        lambda s: max(s.last("container_fs_usage_bytes", container="catalog").values()) == 2**30,
        wrong=core("application.scale", name="catalog", replicas=3),
        right=core("pod.delete", application="catalog", pod=lambda t: t["target"]),
    ),
    Case(
        "dns_failure",
        WS,
        lambda s: _error_ratio(s, "frontend") > 0.3,
        wrong=core("application.restart", name="frontend"),
        right=core("workspace.restart_dns"),
    ),
    Case(
        "liveness_probe_misconfigured",
        "shop/checkout",
        lambda s: _restarts(s, "checkout") >= 2,
        wrong=core("application.restart", name="checkout"),
        right=core("application.rollback", name="checkout"),
        setup=rollout("checkout", "ghcr.io/acme/checkout:1.5.0"),
    ),
]


def _mean_latency(sink: CollectingSink, container: str) -> float:
    total = sum(sink.last("http_request_duration_seconds_sum", container=container).values())
    count = sum(sink.last("http_request_duration_seconds_count", container=container).values())
    return total / max(count, 1.0)


def test_every_catalog_kind_is_tested() -> None:
    assert {c.kind for c in CASES} == set(CATALOG)
    assert len(CATALOG) >= 15


def _recent(sink: CollectingSink, minutes: int) -> tuple[list[str], set[str]]:
    """Log messages and event reasons of the last `minutes` simulated minutes."""
    end = max(b.ts[-1] for b in sink.batches)
    logs = [r.message for r in sink.logs if (end - r.ts).total_seconds() < minutes * 60]
    events = {e.reason for e in sink.events if (end - e.ts).total_seconds() < minutes * 60}
    return logs, events


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_fault_symptoms_and_mitigation(platform: Platform, case: Case) -> None:
    driver = platform.driver
    assert isinstance(driver, SandboxDriver)
    sim = Simulation(platform.engine, seed=7)
    if case.setup:
        case.setup(platform, driver, {})
    target = case.target(driver) if callable(case.target) else case.target
    fault = sim.inject(case.kind, ORG, WS, target)
    spec = CATALOG[case.kind]

    sink = CollectingSink()
    sim.advance(case.minutes, sink)
    truth = sim.truth(fault)
    assert truth["status"] == "active"
    assert case.symptom(sink), f"{case.kind}: documented metric symptom missing"
    assert set(spec.metrics) <= sink.metric_names()
    messages = " | ".join(sink.log_messages())
    for fragment in spec.logs:
        assert fragment in messages, f"{case.kind}: no log with {fragment!r}"
    assert set(spec.events) <= sink.event_reasons(), f"{case.kind}: events {spec.events}"

    case.wrong(platform, driver, truth)
    sim.advance(5, CollectingSink())
    assert sim.truth(fault)["status"] == "active", f"{case.kind}: a wrong mitigation resolved it"

    case.right(platform, driver, truth)
    after = CollectingSink()
    report = sim.advance(12, after)
    assert fault in report.resolved
    resolved = sim.truth(fault)
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] is not None
    logs, events = _recent(after, 5)
    for fragment in spec.logs:
        assert not any(fragment in m for m in logs), f"{case.kind}: still logs {fragment!r}"
    assert not set(spec.events) & events, f"{case.kind}: still emits {set(spec.events) & events}"


def test_an_autoscale_on_the_last_tick_of_an_advance_is_saved(platform: Platform) -> None:
    """The HPA rescales on a minute's last tick; an advance may end right there."""
    owner = platform.user("owner@acme.example")
    platform.request(
        owner,
        "application.set_hpa",
        {
            "workspace": WS,
            "project": "shop",
            "name": "checkout",
            "min_replicas": 2,
            "max_replicas": 4,
        },
    )
    sim = Simulation(platform.engine)
    sim.inject("hpa_at_max", ORG, WS, "shop/checkout")
    sim.advance(1, CollectingSink())
    checkout = next(d for d in sim.status(ORG, WS)["deployments"] if d["name"] == "checkout")
    assert checkout["replicas"] == 4
    assert len(checkout["pods"]) >= 2
