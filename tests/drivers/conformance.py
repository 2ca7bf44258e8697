"""The driver conformance suite: what every `PlatformDriver` must do, whatever it talks to.

Subclass `DriverConformance` in a driver's test module and provide a `driver` fixture that
returns a driver on an empty cluster (no workspaces), and a `seeder` fixture (`ClusterSeeder`)
that creates what tenants and add-ons create but the contract never writes (cert-manager
Certificates, NetworkPolicies), e.g.

    class TestSandboxConformance(DriverConformance):
        @pytest.fixture
        def driver(self) -> Iterator[PlatformDriver]: ...

        @pytest.fixture
        def seeder(self) -> ClusterSeeder: ...

The tests only use the contract (`hexaops.platform.drivers.contract`) and `DriverError`, so the
same suite runs against the sandbox and the Kubernetes driver (on a kmock API emulator).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import pytest

from hexaops.platform.domain import NodePool, Quota, Resources
from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    ApplicationSpec,
    FunctionSpec,
    HpaSpec,
    NamespaceRef,
    ObservedApplication,
    ObservedEvent,
    ObservedWorkspace,
    PlatformDriver,
    WorkloadRef,
    WorkspaceRef,
    WorkspaceSpec,
)
from hexaops.platform.errors import DriverError

SHARED = WorkspaceSpec(plan="shared", kubernetes_version="1.33")
DEDICATED = WorkspaceSpec(plan="dedicated", kubernetes_version="1.34", node_pool=NodePool(nodes=2))

QUOTA = Quota(cpu_millis=4_000, memory_bytes=8 * 2**30, pods=40)
LARGER_QUOTA = Quota(cpu_millis=8_000, memory_bytes=16 * 2**30, pods=80)

SMALL = Resources.parse("100m", "128Mi")
LARGE = Resources.parse("250m", "256Mi", "1", "512Mi")

V1 = ApplicationSpec(image="ghcr.io/acme/checkout:1.4.2", replicas=2, resources=SMALL, revision=1)
V2 = ApplicationSpec(image="ghcr.io/acme/checkout:1.5.0", replicas=2, resources=LARGE, revision=2)

FUNCTION = FunctionSpec(
    runtime="python3.12", image="ghcr.io/hexabase/fn-python:3.12", memory_bytes=256 * 2**20
)


class ClusterSeeder(Protocol):
    """Objects the contract reads and maintains but never creates."""

    def certificate(self, ref: NamespaceRef, name: str) -> None:
        """An expired cert-manager Certificate (not ready, issued once: revision 0 or 1)."""

    def network_policy(self, ref: NamespaceRef, name: str) -> None:
        """A NetworkPolicy denying ingress to the namespace's pods."""


def _identity(observed: ObservedWorkspace | None) -> tuple[str, str, str] | None:
    """What a workspace read must keep stable; the status message is the controller's prose
    (Flux rewrites it on every reconcile) and may change between two reads."""
    if observed is None:
        return None
    return observed.status, observed.kubernetes_version, observed.api_endpoint


def ws(org: str = "acme", workspace: str = "prod") -> WorkspaceRef:
    return WorkspaceRef(org=org, workspace=workspace)


def ns(org: str = "acme", workspace: str = "prod", namespace: str = "shop") -> NamespaceRef:
    return NamespaceRef(org=org, workspace=workspace, namespace=namespace)


def wl(
    org: str = "acme", workspace: str = "prod", namespace: str = "shop", name: str = "checkout"
) -> WorkloadRef:
    return WorkloadRef(org=org, workspace=workspace, namespace=namespace, name=name)


def pod_names(app: ObservedApplication | None) -> list[str]:
    assert app is not None
    return [p.name for p in app.pods]


def assert_running(app: ObservedApplication | None, spec: ApplicationSpec) -> None:
    """The application runs `spec`: every replica has a ready, running pod."""
    assert app is not None
    assert (app.image, app.revision, app.resources) == (spec.image, spec.revision, spec.resources)
    assert app.replicas == spec.replicas
    assert app.ready_replicas == spec.replicas
    assert len(app.pods) == spec.replicas
    assert all(p.ready and p.phase == "Running" for p in app.pods), app.pods
    # Nothing is waiting nor has terminated: `reason` and `last_state` are only set by trouble.
    assert all(p.reason == "" and p.last_state == "" for p in app.pods), app.pods
    assert len(set(pod_names(app))) == spec.replicas, "pod names must be unique"


class DriverConformance:
    """Behaviour every cluster driver shares. Subclasses provide the `driver` fixture."""

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _namespace(
        driver: PlatformDriver, ref: NamespaceRef | None = None, quota: Quota = QUOTA
    ) -> NamespaceRef:
        """A namespace with `quota` in a freshly provisioned shared workspace."""
        ref = ref or ns()
        driver.provision_workspace(ref.workspace_ref, SHARED)
        driver.create_namespace(ref, quota)
        return ref

    @classmethod
    def _application(
        cls, driver: PlatformDriver, ref: WorkloadRef | None = None, spec: ApplicationSpec = V1
    ) -> WorkloadRef:
        ref = ref or wl()
        cls._namespace(driver, ref.namespace_ref)
        driver.apply_application(ref, spec)
        return ref

    # -- workspaces ------------------------------------------------------------------------

    def test_provision_workspace_is_ready_with_its_kubernetes_version(
        self, driver: PlatformDriver
    ) -> None:
        observed = driver.provision_workspace(ws(), SHARED)
        assert observed.status == "ready"
        assert observed.kubernetes_version == "1.33"
        read_back = driver.get_workspace(ws())
        assert read_back is not None
        assert read_back.status == "ready"
        assert read_back.kubernetes_version == "1.33"

    def test_provision_dedicated_workspace(self, driver: PlatformDriver) -> None:
        observed = driver.provision_workspace(ws(), DEDICATED)
        assert observed.status == "ready"
        assert observed.kubernetes_version == "1.34"
        driver.create_namespace(ns(), QUOTA)
        assert_running(driver.apply_application(wl(), V1), V1)

    def test_provision_workspace_twice_is_safe(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        before = driver.get_application(ref)
        again = driver.provision_workspace(ws(), SHARED)
        assert again.status == "ready"
        assert _identity(again) == _identity(driver.get_workspace(ws()))
        # A repeated provision changes nothing inside the vCluster.
        assert driver.get_quota(ns()) == QUOTA
        assert driver.get_application(ref) == before

    def test_unknown_objects_read_as_none(self, driver: PlatformDriver) -> None:
        assert driver.get_workspace(ws()) is None
        assert driver.get_quota(ns()) is None
        assert driver.get_application(wl()) is None
        assert driver.get_function(wl()) is None
        driver.provision_workspace(ws(), SHARED)
        assert driver.get_workspace(ws(workspace="other")) is None
        assert driver.get_workspace(ws(org="globex")) is None
        assert driver.get_quota(ns()) is None
        assert driver.get_application(wl()) is None
        assert driver.get_function(wl()) is None

    # -- namespaces ------------------------------------------------------------------------

    def test_create_namespace_with_quota(self, driver: PlatformDriver) -> None:
        ref = self._namespace(driver)
        assert driver.get_quota(ref) == QUOTA

    def test_create_namespace_twice_is_safe(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        before = driver.get_application(ref)
        driver.create_namespace(ns(), QUOTA)
        assert driver.get_quota(ns()) == QUOTA
        assert driver.get_application(ref) == before, "re-creating a namespace keeps its apps"

    def test_set_quota(self, driver: PlatformDriver) -> None:
        ref = self._namespace(driver)
        driver.set_quota(ref, LARGER_QUOTA)
        assert driver.get_quota(ref) == LARGER_QUOTA
        driver.set_quota(ref, LARGER_QUOTA)  # idempotent
        assert driver.get_quota(ref) == LARGER_QUOTA

    def test_namespace_in_unknown_workspace_is_an_error(self, driver: PlatformDriver) -> None:
        with pytest.raises(DriverError):
            driver.create_namespace(ns(), QUOTA)
        with pytest.raises(DriverError):
            driver.set_quota(ns(), QUOTA)
        assert driver.get_quota(ns()) is None

    def test_set_quota_of_unknown_namespace_is_an_error(self, driver: PlatformDriver) -> None:
        self._namespace(driver)
        with pytest.raises(DriverError):
            driver.set_quota(ns(namespace="missing"), QUOTA)
        assert driver.get_quota(ns(namespace="missing")) is None

    # -- applications ----------------------------------------------------------------------

    def test_apply_application_runs_ready_pods(self, driver: PlatformDriver) -> None:
        self._namespace(driver)
        observed = driver.apply_application(wl(), V1)
        assert_running(observed, V1)
        assert observed.hpa is None
        read_back = driver.get_application(wl())
        assert_running(read_back, V1)
        assert pod_names(read_back) == pod_names(observed)

    def test_apply_same_spec_twice_keeps_the_pods(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        before = driver.get_application(ref)
        again = driver.apply_application(ref, V1)
        assert_running(again, V1)
        assert sorted(pod_names(again)) == sorted(pod_names(before))

    def test_apply_application_with_zero_replicas(self, driver: PlatformDriver) -> None:
        self._namespace(driver)
        spec = V1.model_copy(update={"replicas": 0})
        assert_running(driver.apply_application(wl(), spec), spec)

    def test_scale_up_and_down(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        before = driver.get_application(ref)
        assert before is not None

        up = driver.scale_application(ref, 5)
        assert_running(up, V1.model_copy(update={"replicas": 5}))
        assert set(pod_names(before)) <= set(pod_names(up)), "scaling up keeps running pods"
        assert up.restart_generation == before.restart_generation
        assert_running(driver.get_application(ref), V1.model_copy(update={"replicas": 5}))

        down = driver.scale_application(ref, 1)
        assert_running(down, V1.model_copy(update={"replicas": 1}))
        assert set(pod_names(down)) <= set(pod_names(up)), "scaling down keeps some pods"
        assert_running(driver.get_application(ref), V1.model_copy(update={"replicas": 1}))

        zero = driver.scale_application(ref, 0)
        assert_running(zero, V1.model_copy(update={"replicas": 0}))
        assert_running(driver.get_application(ref), V1.model_copy(update={"replicas": 0}))

    def test_restart_replaces_every_pod(self, driver: PlatformDriver) -> None:
        ref = self._application(driver, spec=V1.model_copy(update={"replicas": 3}))
        before = driver.get_application(ref)
        assert before is not None

        restarted = driver.restart_application(ref)
        assert restarted.restart_generation > before.restart_generation
        assert_running(restarted, V1.model_copy(update={"replicas": 3}))
        assert not set(pod_names(restarted)) & set(pod_names(before)), "all pods are replaced"

        read_back = driver.get_application(ref)
        assert read_back is not None
        assert read_back.restart_generation == restarted.restart_generation
        assert sorted(pod_names(read_back)) == sorted(pod_names(restarted))

        again = driver.restart_application(ref)
        assert again.restart_generation > restarted.restart_generation
        assert not set(pod_names(again)) & set(pod_names(restarted))

    def test_new_revision_rolls_out_new_image(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        v1 = driver.get_application(ref)

        v2 = driver.apply_application(ref, V2)
        assert_running(v2, V2)
        assert not set(pod_names(v2)) & set(pod_names(v1)), "a new revision replaces the pods"
        assert_running(driver.get_application(ref), V2)

    def test_rollback_reapplies_an_older_spec_as_a_new_revision(
        self, driver: PlatformDriver
    ) -> None:
        ref = self._application(driver)
        v2 = driver.apply_application(ref, V2)

        # The platform core rolls back by applying revision 1's image and resources as revision 3.
        v3_spec = V1.model_copy(update={"revision": 3})
        v3 = driver.apply_application(ref, v3_spec)
        assert_running(v3, v3_spec)
        assert not set(pod_names(v3)) & set(pod_names(v2))
        assert_running(driver.get_application(ref), v3_spec)

    def test_set_hpa_clamps_replicas_into_its_bounds(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)  # 2 replicas

        raise_min = HpaSpec(min_replicas=3, max_replicas=6, target_cpu_percent=70)
        driver.set_hpa(ref, raise_min)
        observed = driver.get_application(ref)
        assert_running(observed, V1.model_copy(update={"replicas": 3}))
        assert observed is not None
        assert observed.hpa == raise_min

        within = HpaSpec(min_replicas=1, max_replicas=5, target_cpu_percent=60)
        driver.set_hpa(ref, within)
        observed = driver.get_application(ref)
        assert_running(observed, V1.model_copy(update={"replicas": 3}))
        assert observed is not None
        assert observed.hpa == within

        lower_max = HpaSpec(min_replicas=1, max_replicas=2, target_cpu_percent=80)
        driver.set_hpa(ref, lower_max)
        driver.set_hpa(ref, lower_max)  # idempotent
        observed = driver.get_application(ref)
        assert_running(observed, V1.model_copy(update={"replicas": 2}))
        assert observed is not None
        assert observed.hpa == lower_max

    def test_hpa_stays_across_a_new_revision(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        hpa = HpaSpec(min_replicas=2, max_replicas=4, target_cpu_percent=70)
        driver.set_hpa(ref, hpa)
        assert driver.apply_application(ref, V2).hpa == hpa

    def test_delete_application(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        other = wl(name="frontend")
        driver.apply_application(other, V1)
        driver.set_hpa(ref, HpaSpec(min_replicas=1, max_replicas=3, target_cpu_percent=70))

        driver.delete_application(ref)
        assert driver.get_application(ref) is None
        assert_running(driver.get_application(other), V1)
        driver.delete_application(ref)  # deleting again is safe

        # The HPA went with the application: a new one by that name starts without it.
        assert driver.apply_application(ref, V1).hpa is None

    # -- functions -------------------------------------------------------------------------

    def test_function_lifecycle(self, driver: PlatformDriver) -> None:
        self._namespace(driver)
        observed = driver.apply_function(wl(name="resize"), FUNCTION)
        assert (observed.runtime, observed.image, observed.memory_bytes) == (
            FUNCTION.runtime,
            FUNCTION.image,
            FUNCTION.memory_bytes,
        )
        assert (observed.concurrency, observed.max_instances) == (None, None)
        assert driver.get_function(wl(name="resize")) == observed
        assert driver.apply_function(wl(name="resize"), FUNCTION) == observed  # idempotent

        driver.set_function_scaling(wl(name="resize"), 10, 5)
        scaled = driver.get_function(wl(name="resize"))
        assert scaled is not None
        assert (scaled.concurrency, scaled.max_instances) == (10, 5)

        # An update of the function keeps its scaling (the platform keeps the policy too).
        bigger = FUNCTION.model_copy(update={"memory_bytes": 512 * 2**20})
        updated = driver.apply_function(wl(name="resize"), bigger)
        assert updated.memory_bytes == 512 * 2**20
        assert (updated.concurrency, updated.max_instances) == (10, 5)
        assert driver.get_function(wl(name="resize")) == updated

        driver.delete_function(wl(name="resize"))
        assert driver.get_function(wl(name="resize")) is None
        driver.delete_function(wl(name="resize"))  # deleting again is safe

    def test_functions_and_applications_do_not_share_names(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        driver.apply_function(ref, FUNCTION)
        driver.delete_function(ref)
        assert_running(driver.get_application(ref), V1)
        driver.apply_function(ref, FUNCTION)
        driver.delete_application(ref)
        assert driver.get_function(ref) is not None

    # -- deletion of containers ------------------------------------------------------------

    def test_delete_namespace_removes_its_workloads(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        driver.apply_function(wl(name="resize"), FUNCTION)
        other = wl(namespace="ops", name="checkout")
        driver.create_namespace(other.namespace_ref, QUOTA)
        driver.apply_application(other, V1)

        driver.delete_namespace(ns())
        assert driver.get_quota(ns()) is None
        assert driver.get_application(ref) is None
        assert driver.get_function(wl(name="resize")) is None
        assert driver.get_workspace(ws()) is not None
        assert driver.get_quota(other.namespace_ref) == QUOTA
        assert_running(driver.get_application(other), V1)
        driver.delete_namespace(ns())  # deleting again is safe

        # A namespace re-created under the same name starts empty.
        driver.create_namespace(ns(), QUOTA)
        assert driver.get_application(ref) is None
        assert driver.get_function(wl(name="resize")) is None

    def test_delete_workspace_removes_everything_in_it(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        driver.set_hpa(ref, HpaSpec(min_replicas=1, max_replicas=3, target_cpu_percent=70))
        driver.apply_function(wl(name="resize"), FUNCTION)

        driver.delete_workspace(ws())
        assert driver.get_workspace(ws()) is None
        assert driver.get_quota(ns()) is None
        assert driver.get_application(ref) is None
        assert driver.get_function(wl(name="resize")) is None
        with pytest.raises(DriverError):
            driver.create_namespace(ns(), QUOTA)
        driver.delete_workspace(ws())  # deleting again is safe

        # A workspace re-provisioned under the same name starts empty.
        driver.provision_workspace(ws(), SHARED)
        assert driver.get_quota(ns()) is None
        assert driver.get_application(ref) is None
        assert driver.get_function(wl(name="resize")) is None

    # -- errors ----------------------------------------------------------------------------

    def test_operations_on_missing_objects_are_errors(self, driver: PlatformDriver) -> None:
        hpa = HpaSpec(min_replicas=1, max_replicas=3, target_cpu_percent=70)
        # Nothing exists at all.
        with pytest.raises(DriverError):
            driver.apply_application(wl(), V1)
        with pytest.raises(DriverError):
            driver.apply_function(wl(), FUNCTION)

        self._namespace(driver)
        missing_ns = wl(namespace="missing")
        with pytest.raises(DriverError):
            driver.apply_application(missing_ns, V1)
        with pytest.raises(DriverError):
            driver.apply_function(missing_ns, FUNCTION)

        missing = wl(name="missing")
        with pytest.raises(DriverError):
            driver.scale_application(missing, 3)
        with pytest.raises(DriverError):
            driver.restart_application(missing)
        with pytest.raises(DriverError):
            driver.set_hpa(missing, hpa)
        with pytest.raises(DriverError):
            driver.set_function_scaling(missing, 10, 5)

        # None of the failed calls left anything behind.
        for ref in (wl(), missing_ns, missing):
            assert driver.get_application(ref) is None
            assert driver.get_function(ref) is None
        assert driver.get_quota(missing_ns.namespace_ref) is None

    def test_deleting_missing_objects_is_safe(self, driver: PlatformDriver) -> None:
        driver.delete_workspace(ws())
        driver.delete_namespace(ns())
        driver.delete_application(wl())
        driver.delete_function(wl())
        self._namespace(driver)
        driver.delete_namespace(ns(namespace="missing"))
        driver.delete_application(wl(name="missing"))
        driver.delete_function(wl(name="missing"))
        assert driver.get_quota(ns()) == QUOTA

    # -- isolation -------------------------------------------------------------------------

    def test_same_names_in_two_workspaces_do_not_interfere(self, driver: PlatformDriver) -> None:
        self._isolation(driver, wl(workspace="prod"), wl(workspace="staging"))

    def test_same_names_in_two_organizations_do_not_interfere(self, driver: PlatformDriver) -> None:
        self._isolation(driver, wl(org="acme"), wl(org="globex"))

    def test_hyphenated_names_do_not_collide(self, driver: PlatformDriver) -> None:
        # Organization and workspace names may contain '-': ("acme", "eu-prod") and
        # ("acme-eu", "prod") are two different workspaces of two different tenants.
        self._isolation(
            driver, wl(org="acme", workspace="eu-prod"), wl(org="acme-eu", workspace="prod")
        )

    def _isolation(self, driver: PlatformDriver, a: WorkloadRef, b: WorkloadRef) -> None:
        """Two workloads with the same namespace and name in different workspaces."""
        assert (a.namespace, a.name) == (b.namespace, b.name)
        driver.provision_workspace(a.namespace_ref.workspace_ref, SHARED)
        assert driver.get_workspace(b.namespace_ref.workspace_ref) is None
        driver.provision_workspace(b.namespace_ref.workspace_ref, DEDICATED)
        driver.create_namespace(a.namespace_ref, QUOTA)
        assert driver.get_quota(b.namespace_ref) is None
        driver.create_namespace(b.namespace_ref, LARGER_QUOTA)
        driver.apply_application(a, V1)
        assert driver.get_application(b) is None
        driver.apply_application(b, V2)
        driver.apply_function(a, FUNCTION)
        assert driver.get_function(b) is None

        a_ws = driver.get_workspace(a.namespace_ref.workspace_ref)
        b_ws = driver.get_workspace(b.namespace_ref.workspace_ref)
        assert a_ws is not None
        assert a_ws.kubernetes_version == SHARED.kubernetes_version
        assert b_ws is not None
        assert b_ws.kubernetes_version == DEDICATED.kubernetes_version
        assert driver.get_quota(a.namespace_ref) == QUOTA
        assert driver.get_quota(b.namespace_ref) == LARGER_QUOTA

        # Changes to one never show in the other.
        driver.set_quota(a.namespace_ref, Quota(cpu_millis=1_000, memory_bytes=2**30, pods=10))
        driver.scale_application(a, 4)
        driver.restart_application(a)
        driver.set_hpa(a, HpaSpec(min_replicas=4, max_replicas=8, target_cpu_percent=50))
        driver.set_function_scaling(a, 20, 3)
        assert driver.get_quota(b.namespace_ref) == LARGER_QUOTA
        b_app = driver.get_application(b)
        assert_running(b_app, V2)
        assert b_app is not None
        assert b_app.hpa is None
        assert driver.get_function(b) is None

        # Deleting one workspace leaves the other whole.
        driver.delete_workspace(a.namespace_ref.workspace_ref)
        assert driver.get_workspace(a.namespace_ref.workspace_ref) is None
        assert _identity(driver.get_workspace(b.namespace_ref.workspace_ref)) == _identity(b_ws)
        assert driver.get_quota(b.namespace_ref) == LARGER_QUOTA
        assert_running(driver.get_application(b), V2)

    # -- maintenance: pool nodes -----------------------------------------------------------

    def test_pool_nodes_of_a_dedicated_workspace(self, driver: PlatformDriver) -> None:
        driver.provision_workspace(ws(), DEDICATED)
        driver.provision_workspace(ws(workspace="staging"), SHARED)
        nodes = driver.list_pool_nodes(ws())
        assert DEDICATED.node_pool is not None
        assert len(nodes) == DEDICATED.node_pool.nodes
        assert len({n.name for n in nodes}) == len(nodes)
        assert not any(n.unschedulable for n in nodes)
        # Shared host nodes are nobody's pool; unknown workspaces have none.
        assert driver.list_pool_nodes(ws(workspace="staging")) == []
        assert driver.list_pool_nodes(ws(workspace="missing")) == []

    def test_cordon_and_uncordon(self, driver: PlatformDriver) -> None:
        driver.provision_workspace(ws(), DEDICATED)
        first, second = (n.name for n in driver.list_pool_nodes(ws()))
        driver.cordon_node(ws(), first)
        driver.cordon_node(ws(), first)  # idempotent
        states = {n.name: n.unschedulable for n in driver.list_pool_nodes(ws())}
        assert states == {first: True, second: False}
        driver.uncordon_node(ws(), first)
        driver.uncordon_node(ws(), first)  # idempotent
        assert not any(n.unschedulable for n in driver.list_pool_nodes(ws()))

    def test_nodes_outside_the_pool_are_refused(self, driver: PlatformDriver) -> None:
        driver.provision_workspace(ws(), DEDICATED)
        driver.provision_workspace(ws(org="globex"), DEDICATED)
        driver.provision_workspace(ws(workspace="staging"), SHARED)
        foreign = driver.list_pool_nodes(ws(org="globex"))[0].name
        own = driver.list_pool_nodes(ws())[0].name
        for call in (driver.cordon_node, driver.uncordon_node, driver.drain_node):
            with pytest.raises(DriverError):
                call(ws(), foreign)
            with pytest.raises(DriverError):
                call(ws(workspace="staging"), own)
            with pytest.raises(DriverError):
                call(ws(), "no-such-node")
        assert not any(n.unschedulable for n in driver.list_pool_nodes(ws(org="globex")))
        assert not any(n.unschedulable for n in driver.list_pool_nodes(ws()))

    def test_drain_cordons_and_empties_the_node(self, driver: PlatformDriver) -> None:
        driver.provision_workspace(ws(), DEDICATED)
        driver.create_namespace(ns(), QUOTA)
        spec = V1.model_copy(update={"replicas": 4})
        driver.apply_application(wl(), spec)
        node = driver.list_pool_nodes(ws())[0].name

        assert driver.drain_node(ws(), node) >= 0
        drained = {n.name: n for n in driver.list_pool_nodes(ws())}[node]
        assert drained.unschedulable
        assert drained.workload_pods == 0
        app = driver.get_application(wl())
        assert_running(app, spec)
        assert app is not None
        assert node not in {p.node for p in app.pods}
        assert driver.drain_node(ws(), node) == 0  # draining again is safe

    # -- maintenance: pods -----------------------------------------------------------------

    def test_delete_pod_replaces_it(self, driver: PlatformDriver) -> None:
        spec = V1.model_copy(update={"replicas": 3})
        ref = self._application(driver, spec=spec)
        before = pod_names(driver.get_application(ref))
        victim = before[1]

        after = driver.delete_pod(ref, victim)
        assert_running(after, spec)
        assert victim not in pod_names(after)
        assert set(before) - {victim} <= set(pod_names(after)), "only that pod is replaced"
        assert sorted(pod_names(driver.get_application(ref))) == sorted(pod_names(after))

        with pytest.raises(DriverError):
            driver.delete_pod(ref, victim)  # gone
        frontend = wl(name="frontend")
        driver.apply_application(frontend, V1)
        with pytest.raises(DriverError):
            driver.delete_pod(frontend, pod_names(after)[0])  # not frontend's pod
        assert_running(driver.get_application(ref), spec)
        with pytest.raises(DriverError):
            driver.delete_pod(wl(workspace="missing"), victim)

    # -- diagnostics: events and pod logs --------------------------------------------------

    @staticmethod
    def _assert_well_formed(events: list[ObservedEvent]) -> None:
        assert len(events) <= EVENT_LIMIT
        assert all(e.count >= 1 and e.first_seen <= e.last_seen for e in events), events
        assert all(e.type in ("Normal", "Warning") for e in events), events
        seen = [e.last_seen for e in events]
        assert seen == sorted(seen), "newest last"

    def test_scaling_an_application_records_events(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        driver.scale_application(ref, 3)

        events = driver.list_events(ref.namespace_ref)
        self._assert_well_formed(events)
        assert any(e.kind == "Deployment" and e.name == ref.name for e in events), events

    def test_restart_records_events(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        before = sum(e.count for e in driver.list_events(ref.namespace_ref))

        driver.restart_application(ref)
        events = driver.list_events(ref.namespace_ref)
        self._assert_well_formed(events)
        assert events
        assert sum(e.count for e in events) > before, "the rollout is in the events"

    def test_events_since_and_limit(self, driver: PlatformDriver) -> None:
        ref = self._application(driver, spec=V1.model_copy(update={"replicas": 3}))
        driver.scale_application(ref, 2)
        driver.delete_pod(ref, pod_names(driver.get_application(ref))[0])
        events = driver.list_events(ref.namespace_ref)
        assert len(events) >= 2, "a Deployment's scaling and a pod's killing are two events"

        oldest, newest = events[0].last_seen, events[-1].last_seen
        assert driver.list_events(ref.namespace_ref, since=oldest) == events
        recent = driver.list_events(ref.namespace_ref, since=newest)
        assert recent
        assert all(e.last_seen >= newest for e in recent)
        assert recent == events[-len(recent) :]
        assert driver.list_events(ref.namespace_ref, since=newest + timedelta(days=1)) == []

        assert driver.list_events(ref.namespace_ref, limit=1) == events[-1:]
        assert driver.list_events(ref.namespace_ref, limit=0) == []
        assert len(driver.list_events(ref.namespace_ref, limit=10 * EVENT_LIMIT)) <= EVENT_LIMIT

    def test_events_of_a_missing_namespace_are_an_error(self, driver: PlatformDriver) -> None:
        ref = self._namespace(driver)
        assert all(e.kind != "Deployment" for e in driver.list_events(ref))
        with pytest.raises(DriverError):
            driver.list_events(ns(namespace="missing"))
        with pytest.raises(DriverError):
            driver.list_events(ns(workspace="missing"))

    def test_read_pod_logs(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        pod = pod_names(driver.get_application(ref))[0]

        # A fresh pod may have logged nothing yet: only the shape and the bounds are promised.
        lines = driver.read_pod_logs(ref, pod)
        assert isinstance(lines, list)
        assert all(isinstance(line, str) for line in lines)
        assert len(lines) <= LOG_TAIL_LINES
        assert len(driver.read_pod_logs(ref, pod, tail_lines=1)) <= 1
        assert driver.read_pod_logs(ref, pod, tail_lines=0) == []
        assert len(driver.read_pod_logs(ref, pod, tail_lines=10 * LOG_TAIL_LINES)) <= (
            LOG_TAIL_LINES
        )

    def test_logs_of_a_missing_pod_are_an_error(self, driver: PlatformDriver) -> None:
        ref = self._application(driver)
        pod = pod_names(driver.get_application(ref))[0]
        frontend = wl(name="frontend")
        driver.apply_application(frontend, V1)
        for workload, name in (
            (ref, "checkout-missing-pod"),
            (frontend, pod),  # not frontend's pod
            (wl(namespace="missing"), pod),
            (wl(workspace="missing"), pod),
        ):
            with pytest.raises(DriverError):
                driver.read_pod_logs(workload, name)

    # -- maintenance: certificates, NetworkPolicies, CoreDNS -------------------------------

    def test_renew_certificate(self, driver: PlatformDriver, seeder: ClusterSeeder) -> None:
        ref = self._namespace(driver)
        assert driver.get_certificate(ref, "frontend-tls") is None
        seeder.certificate(ref, "frontend-tls")
        before = driver.get_certificate(ref, "frontend-tls")
        assert before is not None
        assert not before.ready

        renewed = driver.renew_certificate(ref, "frontend-tls")
        assert renewed.ready
        assert renewed.revision > before.revision
        assert not renewed.issuing
        assert driver.get_certificate(ref, "frontend-tls") == renewed
        again = driver.renew_certificate(ref, "frontend-tls")
        assert again.revision > renewed.revision

        with pytest.raises(DriverError):
            driver.renew_certificate(ref, "missing-tls")
        assert driver.get_certificate(ns(workspace="other"), "frontend-tls") is None

    def test_list_certificates(self, driver: PlatformDriver, seeder: ClusterSeeder) -> None:
        ref = self._namespace(driver)
        other = ns(namespace="ops")
        driver.create_namespace(other, QUOTA)
        assert driver.list_certificates(ref) == {}
        for name in ("payments-tls", "frontend-tls"):
            seeder.certificate(ref, name)
        seeder.certificate(other, "ops-tls")
        driver.renew_certificate(ref, "payments-tls")

        listed = driver.list_certificates(ref)
        assert list(listed) == ["frontend-tls", "payments-tls"], "by name, this namespace only"
        assert listed["frontend-tls"] == driver.get_certificate(ref, "frontend-tls")
        assert not listed["frontend-tls"].ready
        assert listed["payments-tls"] == driver.get_certificate(ref, "payments-tls")
        assert listed["payments-tls"].ready
        assert list(driver.list_certificates(other)) == ["ops-tls"]
        assert driver.list_certificates(ns(namespace="missing")) == {}
        assert driver.list_certificates(ns(workspace="missing")) == {}

    def test_delete_network_policy(self, driver: PlatformDriver, seeder: ClusterSeeder) -> None:
        ref = self._namespace(driver)
        other = ns(namespace="ops")
        driver.create_namespace(other, QUOTA)
        assert driver.list_network_policies(ref) == []
        for namespace, name in ((ref, "deny-ingress-payments"), (ref, "allow-web")):
            seeder.network_policy(namespace, name)
        seeder.network_policy(other, "deny-ingress-payments")
        assert driver.list_network_policies(ref) == ["allow-web", "deny-ingress-payments"]

        driver.delete_network_policy(ref, "deny-ingress-payments")
        driver.delete_network_policy(ref, "deny-ingress-payments")  # deleting again is safe
        assert driver.list_network_policies(ref) == ["allow-web"]
        assert driver.list_network_policies(other) == ["deny-ingress-payments"]
        assert driver.list_network_policies(ns(workspace="missing")) == []

    def test_restart_coredns(self, driver: PlatformDriver) -> None:
        assert driver.get_coredns(ws()) is None
        driver.provision_workspace(ws(), SHARED)
        driver.provision_workspace(ws(workspace="staging"), SHARED)
        before = driver.get_coredns(ws())
        assert before is not None
        assert before.ready

        restarted = driver.restart_coredns(ws())
        assert restarted.ready
        assert restarted.restart_generation > before.restart_generation
        assert driver.get_coredns(ws()) == restarted
        assert driver.restart_coredns(ws()).restart_generation > restarted.restart_generation
        assert driver.get_coredns(ws(workspace="staging")) == before, "other vClusters untouched"
        with pytest.raises(DriverError):
            driver.restart_coredns(ws(workspace="missing"))
