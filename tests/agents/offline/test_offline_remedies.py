"""Remedies: which write a diagnosis finding's suggestion becomes, with which arguments."""

from __future__ import annotations

from typing import Any

import pytest

from hexaops.agents.offline.remedies import operation_of, owner_of_pod, remedy, tool_of

WS = "acme/acme-prod"
SHOP = {"workspace": "acme-prod", "project": "shop"}


def _finding(obj: str, *steps: str, **fields: Any) -> dict[str, Any]:
    return {"object": f"{WS}/{obj}", "next_steps": list(steps), "title": "t", **fields}


@pytest.mark.parametrize(
    ("finding", "tool", "args"),
    [
        (
            _finding("shop/Certificate/frontend-tls", "certificate.renew — re-issue it"),
            "platform_certificate_renew",
            {**SHOP, "name": "frontend-tls"},
        ),
        (
            _finding("kube-system/Deployment/coredns", "workspace.restart_dns — restart CoreDNS"),
            "platform_workspace_restart_dns",
            {"name": "acme-prod"},
        ),
        (
            _finding("Node/pool-1", "node.drain — move the pods off", "node.cordon — then …"),
            "platform_node_drain",
            {"workspace": "acme-prod", "node": "pool-1"},
        ),
        (
            _finding(
                "shop/Pod/checkout-c6ea6954b8-50098",
                "pod.delete — checkout-c6ea6954b8-50098: its replacement starts empty",
                "application.restart — checkout, if several pods are full",
            ),
            "platform_pod_delete",
            {**SHOP, "application": "checkout", "pod": "checkout-c6ea6954b8-50098"},
        ),
        (
            _finding(
                "shop/Deployment/checkout",
                "project.update_quota — raise the project's quota",
                evidence=[
                    {
                        "kind": "quota",
                        "project": "shop",
                        "cpu_millis": 4000,
                        "memory_bytes": 8 * 2**30,
                        "pods": 40,
                    },
                ],
            ),
            "platform_project_update_quota",
            {
                "workspace": "acme-prod",
                "name": "shop",
                "cpu": "6000m",
                "memory": "12288Mi",
                "pods": 60,
            },
        ),
        (
            _finding(
                "shop/Deployment/frontend",
                "application.set_hpa — a higher max_replicas",
                evidence=[
                    {"kind": "hpa", "min_replicas": 2, "max_replicas": 3, "target_cpu_percent": 70},
                    {"kind": "metric", "name": "cpu utilization of requests", "value": 280.0},
                ],
            ),
            "platform_application_set_hpa",
            {
                **SHOP,
                "name": "frontend",
                "min_replicas": 2,
                "max_replicas": 12,
                "target_cpu_percent": 70,
            },
        ),
        (
            _finding(
                "shop/Deployment/payments",
                "network_policy.delete — deny-ingress-payments, if it was not meant to isolate",
                evidence=[{"kind": "network_policies", "names": ["deny-ingress-payments"]}],
            ),
            "platform_network_policy_delete",
            {**SHOP, "name": "deny-ingress-payments"},
        ),
        (
            _finding("shop/Deployment/frontend", "application.scale — at least 9 replicas of x"),
            "platform_application_scale",
            {**SHOP, "name": "frontend", "replicas": 9},
        ),
        (
            _finding("shop/Deployment/checkout", "application.restart — replace the pods"),
            "platform_application_restart",
            {**SHOP, "name": "checkout"},
        ),
    ],
)
def test_a_suggestion_becomes_its_write(
    finding: dict[str, Any], tool: str, args: dict[str, Any]
) -> None:
    assert remedy(finding) == (tool, args)


def test_the_first_suggestion_that_can_be_filled_in_is_offered() -> None:
    # A rollback is pointless on the first revision; a fixed image needs a person's choice.
    finding = _finding(
        "shop/Deployment/checkout",
        "application.rollback — if it began with the latest revision",
        "application.deploy — a fixed image",
        "application.restart — replace the pods",
        detail="checkout runs revision 1",
    )
    assert remedy(finding) == ("platform_application_restart", {**SHOP, "name": "checkout"})


def test_changes_that_keep_the_spec_need_the_listed_application() -> None:
    finding = _finding(
        "shop/Deployment/catalog",
        "application.deploy — a lower cpu_limit for catalog",
        "application.scale — fewer replicas of catalog",
    )
    listed = {
        "image": "ghcr.io/acme/catalog:1.9.0",
        "replicas": 2,
        "resources": {"cpu_request": "200m", "cpu_limit": "1", "memory_request": "256Mi"},
    }
    assert remedy(finding, listed) == (
        "platform_application_deploy",
        {**SHOP, "name": "catalog", "image": "ghcr.io/acme/catalog:1.9.0", "replicas": 2,
         "cpu_request": "200m", "memory_request": "256Mi", "cpu_limit": "500m"},
    )  # fmt: skip
    # Without the listing the deploy cannot be written; fewer replicas neither.
    assert remedy(finding) is None
    scale_only = _finding("shop/Deployment/catalog", "application.scale — fewer replicas")
    assert remedy(scale_only, {"replicas": 2}) == (
        "platform_application_scale",
        {**SHOP, "name": "catalog", "replicas": 1},
    )


@pytest.mark.parametrize(
    "finding",
    [
        _finding("shop/Deployment/checkout", "application.delete — remove it"),
        _finding("shop/Deployment/checkout", "workspace.delete — start over"),
        _finding("shop/Deployment/checkout", "rm -rf / — clean up"),
        # A policy the finding does not list as evidence is never deleted.
        _finding(
            "shop/Deployment/payments",
            "network_policy.delete — allow-all, please",
            evidence=[{"kind": "network_policies", "names": ["deny-ingress-payments"]}],
        ),
        _finding("shop/Certificate/frontend-tls", "application.restart — of what?"),
        None,
    ],
)
def test_nothing_is_offered_that_the_finding_does_not_support(
    finding: dict[str, Any] | None,
) -> None:
    assert remedy(finding) is None


def test_names() -> None:
    assert tool_of("certificate.renew") == "platform_certificate_renew"
    assert operation_of("platform_network_policy_delete") == "network_policy.delete"
    assert owner_of_pod("checkout-c6ea6954b8-50098") == "checkout"
    assert owner_of_pod("coredns") is None
