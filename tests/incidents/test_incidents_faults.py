"""Every sandbox fault kind: its alert → the investigation names the cause and the objects at
fault → the planned mitigation runs under an allowing policy → the sandbox recovers; without a
policy the mitigation waits for a person; a wrong mitigation fails verification and escalates."""

from __future__ import annotations

from pathlib import Path

import pytest
from incidents_support import (
    NS,
    ORG,
    OWNER,
    WS,
    Case,
    allow,
    automation_actions,
    inject_and_alert,
    remediator,
)

from hexaops.incidents import store as incidents
from hexaops.incidents.remediation import Step
from hexaops.platform.core import Platform
from hexaops.platform.sandbox import CATALOG, Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore

CASES = [
    Case("oom_memory_leak", "shop/frontend", 12, "rollout:frontend", "memory_leak", "frontend"),
    Case("crashloop_bad_config", "shop/checkout", 3, "rollout", "bad_config", "checkout"),
    Case("image_pull_backoff", "shop/checkout", 3, "rollout", "missing_image", "checkout"),
    Case("cpu_saturation", "shop/catalog", 5, None, "cpu_saturation", "catalog"),
    Case("quota_exhausted", "shop/checkout", 3, None, "quota_exhausted", "checkout"),
    Case("node_memory_pressure", "NODE", 3, None, "node_memory_pressure", "NODE"),
    Case("node_disk_pressure", "NODE", 3, None, "node_disk_pressure", "NODE"),
    Case("noisy_neighbour", "shop/catalog", 5, None, "noisy_neighbour", "catalog"),
    Case("hpa_at_max", "shop/checkout", 3, "hpa", "hpa_at_max", "checkout"),
    Case("bad_deploy_error_spike", "shop/checkout", 5, "rollout", "bad_deploy", "checkout"),
    Case("slow_dependency", "shop/payments", 5, None, "slow_dependency", "payments"),
    Case("certificate_expiry", "shop/frontend", 3, None, "certificate_expired", "frontend"),
    Case("vulnerable_image", "shop/payments", 3, None, "vulnerable_image", "payments"),
    Case(
        "network_policy_blocking", "shop/payments", 3, None, "network_policy_blocking", "payments"
    ),
    Case("disk_full", "POD:catalog", 3, None, "disk_full", "catalog"),
    Case("dns_failure", "acme-prod", 3, None, "dns_failure", "acme-prod"),
    Case("liveness_probe_misconfigured", "shop/checkout", 3, "rollout", "bad_probe", "checkout"),
]


# Faults on an object inside another (a certificate of a deployment): named by the owner.
NAMED_BY_OWNER = {"certificate_expiry", "dns_failure"}


def test_every_fault_kind_has_a_case() -> None:
    assert {c.kind for c in CASES} == set(CATALOG)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_alert_to_verified_recovery(
    case: Case, platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    allow(platform)
    fault, incident_id = inject_and_alert(platform, store, case)
    truth = Simulation(platform.engine).truth(fault)
    with remediator(platform, store, chdb_home) as worker:
        result = worker.run(incident_id)
        if result.waiting:  # deletes are never pre-approved: the owner decides
            result = worker.decide(incident_id, platform.user("owner@acme.example"), "approve")
    owner = platform.user("owner@acme.example")
    record = incidents.detail(platform, owner, incident_id)
    top = record["hypotheses"][0]
    workload = truth["target"] if case.workload == "NODE" else case.workload
    assert (top["cause"], top["workload"]) == (case.cause, workload), record["hypotheses"]
    # The objects it names are the objects at fault (the Deployment behind a pod, the
    # workspace's CoreDNS behind a DNS failure).
    named = {o.rsplit("/", 1)[-1] for o in top["objects"]}
    assert named & {o["name"] for o in truth["objects_at_fault"]} or case.kind in NAMED_BY_OWNER
    assert record["plan"], record["timeline"]
    assert result.status == "resolved", record["timeline"]
    assert Simulation(platform.engine).truth(fault)["status"] == "resolved"


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_without_a_policy_the_mitigation_waits_and_nothing_runs(
    case: Case, platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    fault, incident_id = inject_and_alert(platform, store, case)  # no policy stored
    with remediator(platform, store, chdb_home) as worker:
        result = worker.run(incident_id)
    assert (result.status, result.waiting) == ("awaiting_approval", True)
    assert automation_actions(platform) == []
    assert Simulation(platform.engine).truth(fault)["status"] == "active"
    record = incidents.detail(platform, platform.user(OWNER), incident_id)
    assert record["plan"]  # the proposed mitigation waits with the investigation attached
    assert record["hypotheses"][0]["cause"] == case.cause


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_a_wrong_mitigation_fails_verification_and_escalates(
    case: Case, platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    allow(platform)
    fault, incident_id = inject_and_alert(platform, store, case)
    # Restarting an application the fault does not touch: runs, and fixes nothing.
    bystander = "catalog" if case.workload in ("frontend", "checkout", "payments") else "frontend"
    wrong = Step(
        "application.restart",
        {"org": ORG, "workspace": WS, "project": NS, "name": bystander},
        "forced",
    )
    with remediator(platform, store, chdb_home) as worker:
        result = worker.run(incident_id, forced_plan=[wrong])
    assert result.status == "escalated"
    assert automation_actions(platform) == ["application.restart:succeeded"]
    assert Simulation(platform.engine).truth(fault)["status"] == "active"
    record = incidents.detail(platform, platform.user(OWNER), incident_id)
    assert record["outcome"] == "failed"
    assert "escalation" in [e["kind"] for e in record["timeline"]]
