"""The simulated cluster behaves like one: steady state, operations, HPA, telemetry shape."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_support import CollectingSink

from hexaops.platform.core import Platform
from hexaops.platform.drivers.contract import WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.platform.sandbox import Simulation
from hexaops.platform.views import ActionView

OWNER = "owner@acme.example"
APP = {"org": "acme", "workspace": "acme-prod", "project": "shop"}
POOL = WorkspaceRef(org="acme", workspace="acme-prod").host_namespace + "-pool"


def wl(name: str) -> WorkloadRef:
    return WorkloadRef(org="acme", workspace="acme-prod", namespace="shop", name=name)


@pytest.fixture
def driver(platform: Platform) -> SandboxDriver:
    assert isinstance(platform.driver, SandboxDriver)
    return platform.driver


def request(platform: Platform, kind: str, **params: Any) -> None:
    view = platform.request(platform.user(OWNER), kind, {**APP, **params})
    assert view.status == "succeeded", view


def test_steady_state_is_healthy(platform: Platform, driver: SandboxDriver) -> None:
    sink = CollectingSink()
    Simulation(platform.engine).advance(30, sink)
    for name in ("frontend", "checkout", "payments", "catalog"):
        app = driver.get_application(wl(name))
        assert app is not None
        assert app.ready_replicas == app.replicas
        assert all(p.phase == "Running" and p.ready and p.restarts == 0 for p in app.pods)
    assert not [e for e in sink.events if e.type == "Warning"]
    assert not [r for r in sink.logs if r.level in ("ERROR", "FATAL")]
    for ws in ("acme-prod", "acme-staging"):
        ok = sum(sink.last("http_requests_total", workspace=ws, code="200").values())
        bad = sum(sink.last("http_requests_total", workspace=ws, code="500").values())
        assert ok > 10_000
        assert bad / ok < 0.01


def test_series_are_named_and_labelled_like_the_exporters(platform: Platform) -> None:
    sink = CollectingSink()
    sim = Simulation(platform.engine)
    sim.advance(5, sink)
    sim.advance(5, sink)
    names = sink.metric_names()
    assert {
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kube_pod_container_status_restarts_total",
        "kube_deployment_status_replicas_available",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "node_memory_MemAvailable_bytes",
    } <= names
    cpu = sink.values("container_cpu_usage_seconds_total", container="checkout")
    assert all(pod.startswith("checkout-") for _, pod, _ in cpu)
    per_pod: dict[str, list[float]] = {}
    for _, pod, value in cpu:
        per_pod.setdefault(pod, []).append(value)
    for values in per_pod.values():
        assert values == sorted(values), "counters never go down, across advances too"
        assert len(values) == 40  # 10 minutes at 15 s
    pod = next(iter(per_pod))
    buckets = [
        v
        for _, p, v in sink.values("http_request_duration_seconds_bucket", container="checkout")
        if p == pod
    ][-12:]
    assert buckets == sorted(buckets), "histogram buckets are cumulative in le"
    assert buckets[-1] == sink.last("http_request_duration_seconds_count", pod=pod)[pod]
    ts = sorted({b.ts[0] for b in sink.batches})
    assert all(t.tzinfo is not None for t in ts)


def test_replicas_share_the_load(platform: Platform) -> None:
    sim = Simulation(platform.engine)
    sink = CollectingSink()
    sim.advance(10, sink)
    before = sink.last("container_cpu_usage_seconds_total", container="catalog")
    request(platform, "application.scale", name="catalog", replicas=4)
    later = CollectingSink()
    sim.advance(10, later)
    after = later.last("container_cpu_usage_seconds_total", container="catalog")
    per_pod_before = sum(before.values()) / len(before)
    per_pod_after = sum(v - before.get(p, 0.0) for p, v in after.items()) / len(after)
    assert len(after) == 4
    assert per_pod_after < 0.75 * per_pod_before, "twice the pods, about half the CPU each"


def test_hpa_reacts_to_load(platform: Platform, driver: SandboxDriver) -> None:
    sim = Simulation(platform.engine)
    request(
        platform,
        "application.set_hpa",
        name="frontend",
        min_replicas=1,
        max_replicas=8,
        target_cpu_percent=10,
    )
    sink = CollectingSink()
    sim.advance(10, sink)
    scaled = driver.get_application(wl("frontend"))
    assert scaled is not None
    assert scaled.replicas > 3
    assert any(e.reason == "SuccessfulRescale" and e.name == "frontend" for e in sink.events)
    request(
        platform,
        "application.set_hpa",
        name="frontend",
        min_replicas=1,
        max_replicas=8,
        target_cpu_percent=95,
    )
    sim.advance(15, CollectingSink())
    calm = driver.get_application(wl("frontend"))
    assert calm is not None
    assert calm.replicas < scaled.replicas


def node_request(platform: Platform, kind: str, node: str) -> ActionView:
    """A node operation as the owner; node.drain waits for approval, so the owner approves it."""
    owner = platform.user(OWNER)
    view = platform.request(owner, kind, {"org": "acme", "workspace": "acme-prod", "node": node})
    if view.status == "pending":
        assert view.id is not None
        view = platform.approve(owner, view.id)
    assert view.status == "succeeded", view
    return view


def test_cordon_and_drain_move_pods(platform: Platform, driver: SandboxDriver) -> None:
    sim = Simulation(platform.engine)
    node = f"{POOL}-1"
    node_request(platform, "node.cordon", node)
    request(platform, "application.restart", name="frontend")
    frontend = driver.get_application(wl("frontend"))
    assert frontend is not None
    assert node not in {p.node for p in frontend.pods}
    checkout = driver.get_application(wl("checkout"))
    assert checkout is not None
    assert node in {p.node for p in checkout.pods}, "cordoning alone does not evict"
    drained = node_request(platform, "node.drain", node)
    assert drained.result is not None
    assert drained.result["evicted"] > 0
    checkout = driver.get_application(wl("checkout"))
    assert checkout is not None
    assert node not in {p.node for p in checkout.pods}
    assert all(p.phase == "Running" for p in checkout.pods)
    status = sim.status("acme", "acme-prod")
    assert {n["name"]: n["cordoned"] for n in status["nodes"]}[node] is True
    assert all(
        n["allocatable"]["cpu_millis"] < n["capacity"]["cpu_millis"] for n in status["nodes"]
    )
    node_request(platform, "node.uncordon", node)
    with pytest.raises(InvalidInput, match="not in the dedicated node pool"):
        node_request(platform, "node.cordon", "no-such-node")


def test_delete_pod_replaces_it(platform: Platform, driver: SandboxDriver) -> None:
    sim = Simulation(platform.engine)
    sim.advance(2, CollectingSink())
    app = driver.get_application(wl("payments"))
    assert app is not None
    victim = app.pods[0].name
    view = platform.request(
        platform.user(OWNER), "pod.delete", {**APP, "application": "payments", "pod": victim}
    )
    assert view.status == "succeeded", view
    assert view.result is not None
    after = driver.get_application(wl("payments"))
    assert after is not None
    assert victim not in {p.name for p in after.pods}
    assert sorted(view.result["pods"]) == sorted(p.name for p in after.pods)
    (replacement,) = {p.name for p in after.pods} - {p.name for p in app.pods}
    assert len(after.pods) == app.replicas
    sink = CollectingSink()
    sim.advance(2, sink)
    assert replacement in sink.last("container_cpu_usage_seconds_total", container="payments")
    with pytest.raises(NotFound, match="not a current pod"):
        platform.request(
            platform.user(OWNER), "pod.delete", {**APP, "application": "payments", "pod": victim}
        )


def test_faulty_pods_show_through_the_driver(platform: Platform, driver: SandboxDriver) -> None:
    sim = Simulation(platform.engine)
    request(
        platform,
        "application.deploy",
        name="checkout",
        image="ghcr.io/acme/checkout:9.9.9",
        cpu_request="250m",
        memory_request="256Mi",
        memory_limit="512Mi",
    )
    sim.inject("crashloop_bad_config", "acme", "acme-prod", "shop/checkout")
    sim.advance(5, CollectingSink())
    app = driver.get_application(wl("checkout"))
    assert app is not None
    assert app.ready_replicas == 0
    assert all(p.restarts > 0 for p in app.pods)
    pods = {p["name"]: p for d in sim.status("acme", "acme-prod")["deployments"] for p in d["pods"]}
    assert {pods[p.name]["reason"] for p in app.pods} == {"CrashLoopBackOff"}


def test_events_aggregate_with_counts(platform: Platform) -> None:
    sim = Simulation(platform.engine)
    sim.inject("image_pull_backoff", "acme", "acme-prod", "shop/catalog")
    sink = CollectingSink()
    sim.advance(5, sink)
    sim.advance(5, sink)
    pulls = [e for e in sink.events if e.reason == "Failed"]
    counts = [e.count for e in pulls if e.name == pulls[0].name]
    assert counts == list(range(1, 11))
    assert {e.first_ts for e in pulls if e.name == pulls[0].name} == {pulls[0].ts}


def test_functions_scale_on_concurrency_with_cold_starts(platform: Platform) -> None:
    fn = {**APP, "name": "resize"}
    request(platform, "function.deploy", **fn)
    request(platform, "function.set_scaling", **fn, concurrency=1, max_instances=20)
    sim = Simulation(platform.engine)  # seed 42: "resize" gets about 1.7 invocations/s
    sink = CollectingSink()
    sim.advance(30, sink)
    cold = sink.last("function_cold_starts_total", container="", function="resize")[""]
    ok = sink.last("function_invocations_total", container="", function="resize", code="200")[""]
    instances = [v for *_, v in sink.values("function_instances", function="resize")]
    assert ok > 0
    assert cold >= 1
    assert max(instances) >= 1
    # A cap of one instance at one request each: the rest is throttled (429).
    request(platform, "function.set_scaling", **fn, concurrency=1, max_instances=1)
    capped = CollectingSink()
    sim.advance(30, capped)
    throttled = capped.values("function_invocations_total", function="resize", code="429")
    assert throttled[-1][2] > 0
    assert max(v for *_, v in capped.values("function_instances", function="resize")) == 1
