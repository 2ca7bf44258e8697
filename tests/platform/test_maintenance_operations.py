"""Maintenance operations through the platform core: who may run them, what they refuse
(shared host nodes, foreign nodes, stale names), which wait for approval, and what they audit.

The seeded acme-prod is on the dedicated plan (a node pool of its own), acme-staging on the
shared plan; both run the demo shop in project `shop`.
"""

from __future__ import annotations

from typing import Any

import pytest

from hexaops.platform.core import Platform
from hexaops.platform.db.models import SandboxObject
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.contract import NamespaceRef, WorkloadRef, WorkspaceRef
from hexaops.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from hexaops.platform.views import ActionView

PROD = WorkspaceRef(org="acme", workspace="acme-prod")
SHOP = NamespaceRef(org="acme", workspace="acme-prod", namespace="shop")
POOL = f"{PROD.host_namespace}-pool"


@pytest.fixture
def admin(platform: Platform, owner: Principal) -> Principal:
    view = platform.request(
        owner, "member.add", {"org": "acme", "email": "admin@acme.example", "role": "admin"}
    )
    assert view.status == "succeeded"
    return platform.user("admin@acme.example")


def _node(kind: str, node: str, workspace: str = "acme-prod") -> tuple[str, dict[str, Any]]:
    return kind, {"workspace": workspace, "node": node}


def _schedulable(platform: Platform, node: str) -> bool:
    return not {n.name: n for n in platform.driver.list_pool_nodes(PROD)}[node].unschedulable


def _pods(platform: Platform, app: str, workspace: str = "acme-prod") -> list[str]:
    ref = WorkloadRef(org="acme", workspace=workspace, namespace="shop", name=app)
    observed = platform.driver.get_application(ref)
    assert observed is not None
    return [p.name for p in observed.pods]


def _seed(platform: Platform, kind: str, name: str, spec: dict[str, Any]) -> None:
    """A sandbox object as fault injection writes it (a tenant's or add-on's object)."""
    with platform.sessions.begin() as session:
        session.add(
            SandboxObject(
                cluster=PROD.host_namespace, kind=kind, namespace="shop", name=name, spec=spec
            )
        )


def _events(platform: Platform, who: Principal, view: ActionView) -> list[str]:
    return [e.event for e in reversed(platform.audit(who, "acme")) if e.action_id == view.id]


# -- authorization per role ----------------------------------------------------------------


def test_developers_delete_pods_and_renew_certificates(
    platform: Platform, dev: Principal, viewer: Principal
) -> None:
    victim = _pods(platform, "catalog")[0]
    params = {"workspace": "acme-prod", "project": "shop", "application": "catalog"}
    with pytest.raises(Forbidden, match="viewer"):
        platform.request(viewer, "pod.delete", {**params, "pod": victim})
    view = platform.request(dev, "pod.delete", {**params, "pod": victim})
    assert (view.status, view.risk) == ("succeeded", "low")
    assert victim not in _pods(platform, "catalog")

    _seed(platform, "Certificate", "frontend-tls", {"renewals": 0})
    cert = {"workspace": "acme-prod", "project": "shop", "name": "frontend-tls"}
    with pytest.raises(Forbidden):
        platform.request(viewer, "certificate.renew", cert)
    renewed = platform.request(dev, "certificate.renew", cert)
    assert renewed.status == "succeeded"
    assert renewed.result is not None
    assert renewed.result["revision"] == 1


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        _node("node.cordon", f"{POOL}-1"),
        _node("node.drain", f"{POOL}-1"),
        ("network_policy.delete", {"workspace": "acme-prod", "project": "shop", "name": "x"}),
        ("workspace.restart_dns", {"name": "acme-prod"}),
    ],
)
def test_developers_may_not_do_admin_maintenance(
    platform: Platform, dev: Principal, kind: str, params: dict[str, Any]
) -> None:
    with pytest.raises(Forbidden, match=r"developer.*needs admin or owner"):
        platform.request(dev, kind, params)
    assert all(a.operation != kind for a in platform.list_actions(dev, "acme"))


def test_other_organizations_see_nothing(platform: Platform) -> None:
    globex = platform.user("owner@globex.example")
    with pytest.raises(NotFound):
        platform.request(globex, *_node("node.cordon", f"{POOL}-1"))
    with pytest.raises(NotFound):
        platform.request(globex, "workspace.restart_dns", {"name": "acme-prod"})


# -- nodes: only the workspace's own dedicated pool ------------------------------------------


def test_shared_plan_nodes_are_refused(platform: Platform, owner: Principal) -> None:
    for kind in ("node.cordon", "node.uncordon", "node.drain"):
        with pytest.raises(Forbidden, match=r"shared plan.*pod\.delete or application\.restart"):
            platform.request(owner, *_node(kind, "k3s-shared-1", workspace="acme-staging"))
    assert not [a for a in platform.list_actions(owner, "acme") if a.operation.startswith("node.")]


def test_nodes_outside_the_pool_are_refused(platform: Platform, owner: Principal) -> None:
    for node in ("k3s-shared-1", "globex-prod-pool-1", "no-such-node"):
        with pytest.raises(InvalidInput, match=f"its nodes are: {POOL}-1"):
            platform.request(owner, *_node("node.cordon", node))
    with pytest.raises(InvalidInput, match="invalid node name"):
        platform.request(owner, *_node("node.cordon", "Node_1"))


def test_cordon_and_uncordon_run_at_once(platform: Platform, admin: Principal) -> None:
    node = f"{POOL}-1"
    cordoned = platform.request(admin, *_node("node.cordon", node))
    assert (cordoned.status, cordoned.risk, cordoned.approved_by) == (
        "succeeded",
        "low",
        "policy:low-risk",
    )
    assert not _schedulable(platform, node)
    with pytest.raises(Conflict, match="already cordoned"):
        platform.request(admin, *_node("node.cordon", node))
    assert platform.request(admin, *_node("node.uncordon", node)).status == "succeeded"
    assert _schedulable(platform, node)
    with pytest.raises(Conflict, match="not cordoned"):
        platform.request(admin, *_node("node.uncordon", node))


def test_drain_waits_for_approval_and_is_audited(
    platform: Platform, owner: Principal, admin: Principal, dev: Principal
) -> None:
    node = f"{POOL}-1"
    on_node = [
        p.name
        for app in ("frontend", "checkout")
        for p in (
            platform.driver.get_application(
                WorkloadRef(org="acme", workspace="acme-prod", namespace="shop", name=app)
            )
            or pytest.fail("seeded app missing")
        ).pods
        if p.node == node
    ]
    assert on_node

    view = platform.request(admin, *_node("node.drain", node))
    assert (view.status, view.risk) == ("pending", "high")
    assert view.plan["changes"][0]["kind"] == "Node"
    assert any("will be evicted" in w for w in view.plan["warnings"])
    assert _schedulable(platform, node), "nothing happens before approval"
    assert view.id is not None
    with pytest.raises(Forbidden):
        platform.approve(dev, view.id)

    done = platform.approve(owner, view.id, "node under memory pressure")
    assert done.status == "succeeded"
    assert done.result is not None
    assert done.result["evicted"] >= len(on_node)
    assert not _schedulable(platform, node)
    assert not {n.name: n for n in platform.driver.list_pool_nodes(PROD)}[node].workload_pods
    assert _events(platform, owner, view) == [
        "action.pending",
        "action.approved",
        "action.executing",
        "action.succeeded",
    ]
    with pytest.raises(Conflict, match="already drained"):
        platform.request(admin, *_node("node.drain", node))


def test_a_stale_drain_is_refused_at_approval(platform: Platform, owner: Principal) -> None:
    node = f"{POOL}-2"
    first = platform.request(owner, *_node("node.drain", node))
    second = platform.request(owner, *_node("node.drain", node))
    assert first.id is not None
    assert second.id is not None
    assert platform.approve(owner, first.id).status == "succeeded"
    with pytest.raises(Conflict, match="no longer applies"):
        platform.approve(owner, second.id)


def test_a_retried_drain_runs_once(platform: Platform, owner: Principal) -> None:
    kind, params = _node("node.drain", f"{POOL}-1")
    first = platform.request(owner, kind, params, idempotency_key="drain-1")
    again = platform.request(owner, kind, params, idempotency_key="drain-1")
    assert again.replayed
    assert again.id == first.id


# -- pods, certificates, policies, DNS -------------------------------------------------------


def test_pod_delete_plan_shows_the_pod_and_its_app(platform: Platform, owner: Principal) -> None:
    victim = _pods(platform, "payments")[0]
    params = {"workspace": "acme-prod", "project": "shop", "application": "payments"}
    plan = platform.request(owner, "pod.delete", {**params, "pod": victim}, dry_run=True)
    (change,) = plan.plan["changes"]
    assert (change["op"], change["kind"], change["name"]) == ("delete", "Pod", victim)
    assert change["before"]["application"] == "payments"
    assert change["before"]["node"].startswith(POOL)

    with pytest.raises(NotFound, match=f"its pods are: .*{victim}"):
        platform.request(owner, "pod.delete", {**params, "pod": "payments-0000000000-xxxxx"})
    with pytest.raises(NotFound, match="not a current pod of application checkout"):
        platform.request(owner, "pod.delete", {**params, "application": "checkout", "pod": victim})

    view = platform.request(owner, "pod.delete", {**params, "pod": victim})
    assert view.status == "succeeded"
    assert view.result is not None
    assert victim not in view.result["pods"]
    assert len(view.result["pods"]) == len(_pods(platform, "payments"))
    assert _events(platform, owner, view) == [
        "action.approved",
        "action.executing",
        "action.succeeded",
    ]


def test_certificate_renew_needs_an_existing_certificate(
    platform: Platform, owner: Principal
) -> None:
    cert = {"workspace": "acme-prod", "project": "shop", "name": "frontend-tls"}
    with pytest.raises(NotFound, match="CertificateExpired event"):
        platform.request(owner, "certificate.renew", cert)
    _seed(platform, "Certificate", "frontend-tls", {"renewals": 0})
    assert platform.request(owner, "certificate.renew", cert).status == "succeeded"
    observed = platform.driver.get_certificate(SHOP, "frontend-tls")
    assert observed is not None
    assert (observed.ready, observed.revision) == (True, 1)


def test_network_policy_delete_is_high_risk(platform: Platform, owner: Principal) -> None:
    spec = {"podSelector": {"app": "payments"}, "policyTypes": ["Ingress"], "ingress": []}
    _seed(platform, "NetworkPolicy", "deny-ingress-payments", spec)
    params = {"workspace": "acme-prod", "project": "shop"}
    with pytest.raises(NotFound, match="its policies are: deny-ingress-payments"):
        platform.request(owner, "network_policy.delete", {**params, "name": "deny-all"})

    rejected = platform.request(
        owner, "network_policy.delete", {**params, "name": "deny-ingress-payments"}
    )
    assert (rejected.status, rejected.risk) == ("pending", "high")
    assert rejected.id is not None
    assert platform.reject(owner, rejected.id, "keep it").status == "rejected"
    assert platform.driver.list_network_policies(SHOP) == ["deny-ingress-payments"]

    view = platform.request(
        owner, "network_policy.delete", {**params, "name": "deny-ingress-payments"}
    )
    assert view.id is not None
    assert platform.approve(owner, view.id).status == "succeeded"
    assert platform.driver.list_network_policies(SHOP) == []


def test_restart_dns(platform: Platform, admin: Principal) -> None:
    before = platform.driver.get_coredns(PROD)
    assert before is not None
    view = platform.request(admin, "workspace.restart_dns", {"name": "acme-prod"})
    assert (view.status, view.risk) == ("succeeded", "low")
    after = platform.driver.get_coredns(PROD)
    assert after is not None
    assert after.restart_generation == before.restart_generation + 1
    with pytest.raises(NotFound):
        platform.request(admin, "workspace.restart_dns", {"name": "acme-nope"})
