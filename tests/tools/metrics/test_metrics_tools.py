"""The metrics tools on the sandbox's telemetry, answered by ClickHouse (chDB) and by a real
Prometheus backfilled from the same samples: faults show, both backends agree, tenants stay
apart, failures are error results."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from sqlalchemy import create_engine

from hexaops.platform.core import Platform
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ALL_TENANTS, ClickHouseStore
from hexaops.platform.telemetry.openmetrics import export_openmetrics
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult, run_tool

sys.path.insert(0, str(Path(__file__).parents[2] / "telemetry"))
from prometheus_support import backfilled_prometheus

from pg_support import fresh_database

WS, NS = "acme-prod", "shop"
OWNER = "owner@acme.example"


@dataclass
class World:
    platform: Platform
    store: ClickHouseStore
    home: Path
    prometheus: str
    start: datetime  # the simulation's epoch (a 2 h block boundary)
    deployed_at: datetime  # frontend's new revision; payments' bad deploy starts here

    def context(self, backend: str, email: str = OWNER, **kwargs: Any) -> ToolContext:
        url = self.prometheus if backend == "prometheus" else None
        settings = Settings(home=self.home, prometheus_url=kwargs.pop("prometheus_url", url))
        user = self.platform.user(email)
        return ToolContext(
            self.platform, user, settings, resources={"telemetry": self.store}, **kwargs
        )

    def run(self, backend: str, name: str, args: dict[str, Any], **kwargs: Any) -> ToolResult:
        with self.context(backend, **kwargs) as ctx:
            return run_tool(ctx, name, args)


@pytest.fixture(scope="module")
def world(
    pg_server: str,
    templates: dict[str, str],
    chdb_client: Client,
    chdb_home: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """Two simulated hours of the seeded sandbox (acme and globex): checkout leaks memory from
    the start; after one hour frontend gets a new revision and payments a buggy one."""
    url = fresh_database(pg_server, templates["seeded"])
    engine = create_engine(url)
    platform = Platform(engine, SandboxDriver(engine))
    store = ClickHouseStore(chdb_client, database=f"metrics_{os.getpid()}")
    sim = Simulation(engine)
    start = sim.now()
    sim.inject("oom_memory_leak", "acme", WS, "checkout")
    sim.advance(60, store)
    deployed_at = sim.now()
    owner = platform.user(OWNER)
    view = platform.request(
        owner,
        "application.deploy",
        {
            "org": "acme",
            "workspace": WS,
            "project": NS,
            "name": "frontend",
            "image": "ghcr.io/acme/frontend:2.4.0",
            "cpu_request": "100m",
            "memory_request": "128Mi",
            "memory_limit": "256Mi",
        },
    )
    if view.status == "pending":
        assert view.id is not None
        view = platform.approve(owner, view.id)
    assert view.status == "succeeded", view
    sim.inject("bad_deploy_error_spike", "acme", WS, "payments")
    sim.advance(60, store)
    workdir = tmp_path_factory.mktemp("prometheus")
    series = workdir / "sandbox.om"
    export_openmetrics(store, series, start, start + timedelta(hours=2), ALL_TENANTS)
    with backfilled_prometheus(series, workdir) as url:
        yield World(platform, store, chdb_home, url, start, deployed_at)
    store.drop()
    engine.dispose()


BACKENDS = ["clickhouse", "prometheus"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_oom_leak_shows_rising_memory_and_restarts(world: World, backend: str) -> None:
    result = world.run(
        backend,
        "metrics_workload",
        {"workspace": WS, "project": NS, "workload": "checkout", "since": "1h"},
    )
    assert result.status == "ok", result.summary
    stats = result.data["stats"]
    assert stats["restarts"]["total"] > 0
    assert stats["memory_peak"]["max"] > 0.9 * 512  # close to the 512 MiB limit before OOM
    assert "of 512 MiB limit" in result.summary
    assert "restarts" in result.summary
    assert result.evidence[0].backend == backend
    # A healthy neighbour neither leaks nor restarts.
    catalog = world.run(
        backend, "metrics_workload", {"workspace": WS, "project": NS, "workload": "catalog"}
    )
    assert catalog.data["stats"]["restarts"]["total"] == 0
    assert catalog.data["stats"]["memory_peak"]["max"] < 0.9 * 512


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_deploy_raises_the_error_rate(world: World, backend: str) -> None:
    at = world.deployed_at.isoformat()
    result = world.run(
        backend,
        "metrics_compare",
        {"workspace": WS, "project": NS, "workload": "payments", "at": at, "around": "30m"},
    )
    assert result.status == "ok", result.summary
    error_rate = result.data["signals"]["error_rate"]
    assert error_rate["after"] > error_rate["before"]
    assert error_rate["change"] == "worse"
    assert result.data["verdict"].startswith("regression")
    assert "error_rate" in result.summary


@pytest.mark.parametrize("backend", BACKENDS)
def test_compare_finds_the_latest_rollout(world: World, backend: str) -> None:
    result = world.run(
        backend,
        "metrics_compare",
        {"workspace": WS, "project": NS, "workload": "frontend"},
    )
    assert result.status == "ok", result.summary
    assert result.data["change_at"] == world.deployed_at.isoformat()
    assert "roll out frontend ghcr.io/acme/frontend:2.4.0" in result.data["change"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_top_memory_consumers(world: World, backend: str) -> None:
    result = world.run(
        backend,
        "metrics_top_consumers",
        {"workspace": WS, "resource": "memory", "by": "workload", "since": "1h"},
    )
    assert result.status == "ok", result.summary
    rows = result.data["top"]
    assert [r["avg_MiB"] for r in rows] == sorted((r["avg_MiB"] for r in rows), reverse=True)
    names = [r["workload"] for r in rows]
    assert f"{WS}/{NS}/checkout" in names
    assert all(n.startswith(f"{WS}/") for n in names)
    pods = world.run(backend, "metrics_top_consumers", {"resource": "cpu", "limit": 3})
    assert len(pods.data["top"]) == 3


def test_both_backends_give_the_same_answers(world: World) -> None:
    def answers(backend: str) -> list[Any]:
        out: list[Any] = []
        for workload in ("checkout", "payments", "frontend"):
            args = {"workspace": WS, "project": NS, "workload": workload, "since": "90m"}
            r = world.run(backend, "metrics_workload", args)
            out.append((r.data["stats"], r.data["series"]))
        for resource in ("cpu", "memory"):
            r = world.run(backend, "metrics_top_consumers", {"resource": resource, "by": "pod"})
            out.append(r.data["top"])
        r = world.run(
            backend,
            "metrics_compare",
            {"workspace": WS, "project": NS, "at": world.deployed_at.isoformat()},
        )
        out.append(r.data["signals"])
        return out

    assert _close(answers("clickhouse"), answers("prometheus"))


def _close(a: Any, b: Any) -> bool:
    """Equal up to the last rounded digit."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        if a != b and abs(a - b) > 0.011 * max(abs(a), abs(b)) + 1e-9:
            print("differs:", a, b)
            return False
        return True
    if a != b:
        print("differs:", a, b)
    return bool(a == b)


def test_promql_never_returns_another_orgs_series(world: World) -> None:
    attempts = [
        'container_memory_working_set_bytes{org="globex"}',
        '{__name__=~".+", org=~"globex|acme"}',
        "sum by (org) (kube_pod_container_status_ready)",
        'count by (org, workspace) ({__name__="container_memory_working_set_bytes"})',
        'kube_pod_container_status_ready or on() label_replace(vector(1), "org", "globex", "", "")',
        "container_memory_working_set_bytes # }{org=~'.+'}",
    ]
    seen_acme = False
    for query in attempts:
        result = world.run("prometheus", "metrics_promql", {"query": query})
        assert result.status in ("ok", "empty"), (query, result.summary)
        for row in (result.data or {}).get("series", []):
            assert row["labels"].get("org") in ("acme", None), (query, row)
            seen_acme |= row["labels"].get("org") == "acme"
    assert seen_acme
    staging_only = world.run(
        "prometheus",
        "metrics_promql",
        {"query": "count by (workspace) (kube_pod_container_status_ready)", "workspace": WS},
    )
    assert [r["labels"]["workspace"] for r in staging_only.data["series"]] == [WS]
    globex = world.run("prometheus", "metrics_promql", {"query": "up", "org": "globex"})
    assert globex.status == "error"
    assert globex.error_code == "not_found"


def test_promql_range_and_errors(world: World) -> None:
    ranged = world.run(
        "prometheus",
        "metrics_promql",
        {"query": "sum(rate(http_requests_total[5m]))", "range": True, "since": "1h"},
    )
    assert ranged.status == "ok", ranged.summary
    assert len(ranged.data["series"][0]["values"]) > 10
    for query in ("sum(rate(x[5m])", "x{a~'b'}", "rate(http_requests_total)"):
        bad = world.run("prometheus", "metrics_promql", {"query": query})
        assert bad.status == "error", query
        assert bad.error_code == "invalid", (query, bad.summary)
    refused = world.run("prometheus", "metrics_promql", {"query": "rate(http_requests_total)"})
    assert "range vector" in refused.summary  # Prometheus' own explanation
    no_prometheus = world.run("clickhouse", "metrics_promql", {"query": "up"})
    assert no_prometheus.status == "error"
    assert "HEXAOPS_PROMETHEUS_URL" in no_prometheus.summary
    assert "metrics_workload" in no_prometheus.summary


def test_prometheus_down_is_a_fast_error(world: World) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    result = world.run(
        "prometheus",
        "metrics_workload",
        {"workspace": WS},
        prometheus_url=f"http://127.0.0.1:{port}",
        timeout_seconds=2.0,
    )
    assert time.monotonic() - started < 5
    assert result.status == "error"
    assert result.error_code == "backend_unavailable"
    assert f"127.0.0.1:{port}" in result.summary


def test_a_prometheus_that_never_answers_times_out(world: World) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never responds
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = world.run(
            "prometheus", "metrics_promql", {"query": "up"}, prometheus_url=url, timeout_seconds=0.5
        )
    assert time.monotonic() - started < 3
    assert result.error_code == "backend_unavailable"
    assert "timeout" in result.summary


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_window_without_data_is_empty(world: World, backend: str) -> None:
    before = world.start - timedelta(hours=3)
    result = world.run(
        backend,
        "metrics_workload",
        {
            "workspace": WS,
            "project": NS,
            "workload": "checkout",
            "start": before.isoformat(),
            "end": (before + timedelta(hours=1)).isoformat(),
        },
    )
    assert result.status == "empty", result.summary
    assert result.summary.startswith("no metrics for acme/acme-prod/shop/checkout")


def test_with_the_shared_tool_context(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    """The standard fixture: telemetry from `store`, the sandbox's clock, a developer."""
    sim = Simulation(platform.engine)
    sim.inject("oom_memory_leak", "acme", WS, "checkout")
    sim.advance(20, store)
    args = {"workspace": WS, "project": NS, "workload": "checkout", "since": "15m"}
    result = run_tool(tool_context(), "metrics_workload", args)
    assert result.status == "ok", result.summary
    assert result.evidence[0].backend == "clickhouse"
    memory = result.data["series"]["memory_peak"]
    assert memory[-1] > memory[0]  # leaking


def test_scope_is_checked_against_the_principal(world: World) -> None:
    hidden = world.run("clickhouse", "metrics_workload", {"workspace": "globex-prod"})
    assert hidden.error_code == "not_found"
    missing = world.run(
        "clickhouse", "metrics_workload", {"workspace": WS, "project": NS, "workload": "nope"}
    )
    assert missing.error_code == "not_found"
    loose = world.run("clickhouse", "metrics_workload", {"workload": "checkout"})
    assert loose.error_code == "invalid"
