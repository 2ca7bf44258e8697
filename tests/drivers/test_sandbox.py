"""The sandbox driver: the conformance suite, plus what only the sandbox promises.

The sandbox keeps its simulated cluster in PostgreSQL, deterministically: the same calls give
the same pod names and placement on any database, and every process on a database sees the
same cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import sessionmaker

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.drivers.contract import HpaSpec, NamespaceRef, ObservedApplication
from hexaops.platform.drivers.sandbox import SHARED_NODES, SandboxDriver
from pg_support import fresh_database

from .conformance import (
    DEDICATED,
    FUNCTION,
    QUOTA,
    SHARED,
    V1,
    V2,
    ClusterSeeder,
    DriverConformance,
    assert_running,
    ns,
    wl,
    ws,
)

EngineFactory = Callable[[str], Engine]


@pytest.fixture
def engines() -> Iterator[EngineFactory]:
    """Create engines on database URLs; all are disposed after the test."""
    created: list[Engine] = []

    def make(url: str) -> Engine:
        engine = create_engine(url)
        created.append(engine)
        return engine

    yield make
    for engine in created:
        engine.dispose()


@pytest.fixture
def empty_database(pg_server: str, templates: dict[str, str]) -> str:
    """URL of a fresh migrated database with an empty sandbox."""
    return fresh_database(pg_server, templates["empty"])


@pytest.fixture
def sandbox(empty_database: str, engines: EngineFactory) -> SandboxDriver:
    """A sandbox driver on a fresh database: an empty K3s host."""
    return SandboxDriver(engines(empty_database))


class SandboxSeeder:
    """Writes sandbox objects as fault injection does (`hexaops.platform.sandbox.injection`)."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine)

    def _add(self, ref: NamespaceRef, kind: str, name: str, spec: dict[str, Any]) -> None:
        cluster = ref.workspace_ref.host_namespace
        with self._sessions.begin() as session:
            session.add(
                SandboxObject(
                    cluster=cluster, kind=kind, namespace=ref.namespace, name=name, spec=spec
                )
            )

    def certificate(self, ref: NamespaceRef, name: str) -> None:
        self._add(ref, "Certificate", name, {"renewals": 0})

    def network_policy(self, ref: NamespaceRef, name: str) -> None:
        spec = {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []}
        self._add(ref, "NetworkPolicy", name, spec)


class TestSandboxConformance(DriverConformance):
    @pytest.fixture
    def driver(self, sandbox: SandboxDriver) -> SandboxDriver:
        return sandbox

    @pytest.fixture
    def seeder(self, empty_database: str, engines: EngineFactory) -> ClusterSeeder:
        return SandboxSeeder(engines(empty_database))


def _scenario(driver: SandboxDriver) -> list[list[tuple[str, str]]]:
    """A fixed sequence of calls; returns (pod, node) pairs after each step that changes pods."""
    steps: list[Callable[[], ObservedApplication]] = [
        lambda: driver.apply_application(wl(), V1),
        lambda: driver.scale_application(wl(), 4),
        lambda: driver.restart_application(wl()),
        lambda: driver.apply_application(wl(), V2),
        lambda: driver.apply_application(wl(workspace="dedicated"), V1),
        lambda: driver.scale_application(wl(workspace="dedicated"), 3),
    ]
    driver.provision_workspace(ws(), SHARED)
    driver.create_namespace(ns(), QUOTA)
    driver.provision_workspace(ws(workspace="dedicated"), DEDICATED)
    driver.create_namespace(ns(workspace="dedicated"), QUOTA)
    return [[(p.name, p.node) for p in step().pods] for step in steps]


def test_pod_names_are_deterministic(
    pg_server: str, templates: dict[str, str], engines: EngineFactory
) -> None:
    first, second = (
        _scenario(SandboxDriver(engines(fresh_database(pg_server, templates["empty"]))))
        for _ in range(2)
    )
    assert first == second
    assert all(first), "every step has pods"
    assert len({name for step in first for name, _ in step}) > len(first[0])


def test_state_is_shared_between_drivers_on_one_database(
    empty_database: str, engines: EngineFactory
) -> None:
    # Two drivers with their own engines, as in two hexaops processes.
    one, two = SandboxDriver(engines(empty_database)), SandboxDriver(engines(empty_database))

    one.provision_workspace(ws(), SHARED)
    assert two.get_workspace(ws()) == one.get_workspace(ws())
    two.create_namespace(ns(), QUOTA)
    assert one.get_quota(ns()) == QUOTA

    applied = one.apply_application(wl(), V1)
    assert two.get_application(wl()) == applied
    restarted = two.restart_application(wl())
    assert one.get_application(wl()) == restarted
    hpa = HpaSpec(min_replicas=3, max_replicas=5, target_cpu_percent=70)
    one.set_hpa(wl(), hpa)
    seen = two.get_application(wl())
    assert seen is not None
    assert seen.hpa == hpa
    assert len(seen.pods) == 3

    two.apply_function(wl(name="resize"), FUNCTION)
    one.set_function_scaling(wl(name="resize"), 10, 5)
    scaled = two.get_function(wl(name="resize"))
    assert scaled is not None
    assert (scaled.concurrency, scaled.max_instances) == (10, 5)

    two.delete_workspace(ws())
    assert one.get_workspace(ws()) is None
    assert one.get_application(wl()) is None
    assert one.list_objects() == two.list_objects() == []


def test_delete_workspace_leaves_no_objects(sandbox: SandboxDriver) -> None:
    driver = sandbox
    driver.provision_workspace(ws(org="globex"), SHARED)
    kept = driver.list_objects()
    driver.provision_workspace(ws(), SHARED)
    driver.create_namespace(ns(), QUOTA)
    driver.apply_application(wl(), V1)
    driver.set_hpa(wl(), HpaSpec(min_replicas=1, max_replicas=3, target_cpu_percent=70))
    driver.apply_function(wl(name="resize"), FUNCTION)
    assert len(driver.list_objects()) > len(kept)

    driver.delete_workspace(ws())
    assert driver.list_objects() == kept


def test_pods_are_placed_on_the_workspace_nodes(sandbox: SandboxDriver) -> None:
    driver = sandbox
    for ref, spec in ((ws(), SHARED), (ws(workspace="dedicated"), DEDICATED)):
        driver.provision_workspace(ref, spec)
        driver.create_namespace(ns(workspace=ref.workspace), QUOTA)

    shared = driver.apply_application(wl(), V1.model_copy(update={"replicas": 6}))
    assert {p.node for p in shared.pods} == set(SHARED_NODES)

    dedicated = driver.apply_application(
        wl(workspace="dedicated"), V1.model_copy(update={"replicas": 6})
    )
    assert DEDICATED.node_pool is not None
    host_namespace = ws(workspace="dedicated").host_namespace
    pool = {f"{host_namespace}-pool-{i + 1}" for i in range(DEDICATED.node_pool.nodes)}
    assert {p.node for p in dedicated.pods} == pool
    assert_running(dedicated, V1.model_copy(update={"replicas": 6}))
