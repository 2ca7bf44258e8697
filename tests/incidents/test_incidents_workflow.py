"""The remediation graph around the happy path: plans outside the policy wait for a person
with the right role, a wrong mitigation fails verification and is reverted and escalated, a
worker killed after an action resumes without running it again, red herrings and other faults
do not mislead the investigation, and the incident lands in incident memory."""

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

from hexaops.agents.approvals import ApprovalMiddleware
from hexaops.agents.context import AgentContext
from hexaops.incidents import postmortem
from hexaops.incidents import store as incidents
from hexaops.incidents.policies import parse, set_policy, show
from hexaops.incidents.remediation import Step
from hexaops.incidents.workflow import SimulatedCrash
from hexaops.knowledge.incidents import list_incidents
from hexaops.platform.core import Platform
from hexaops.platform.errors import Forbidden
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext

SUBSET = [
    Case("crashloop_bad_config", "shop/checkout", 3, "rollout", "bad_config", "checkout"),
    Case("disk_full", "POD:catalog", 3, None, "disk_full", "catalog"),
    Case("slow_dependency", "shop/payments", 5, None, "slow_dependency", "payments"),
]


@pytest.mark.parametrize("case", SUBSET, ids=[c.kind for c in SUBSET])
def test_without_a_covering_policy_the_plan_waits_for_an_owner(
    case: Case, platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    fault, incident_id = inject_and_alert(platform, store, case)  # no policy stored
    with remediator(platform, store, chdb_home) as worker:
        result = worker.run(incident_id)
        assert (result.status, result.waiting) == ("awaiting_approval", True)
        assert automation_actions(platform) == []  # nothing ran
        assert worker.run(incident_id).waiting  # running again does not skip the approval
        with pytest.raises(Forbidden, match="needs owner or admin"):
            worker.decide(incident_id, platform.user("dev@acme.example"), "approve")
        done = worker.decide(incident_id, platform.user(OWNER), "approve", "go")
    assert done.status == "resolved"
    assert Simulation(platform.engine).truth(fault)["status"] == "resolved"
    record = incidents.detail(platform, platform.user(OWNER), incident_id)
    summaries = [e["summary"] for e in record["timeline"]]
    assert any("waits for an owner or admin" in s for s in summaries)
    assert any("owner@acme.example approved the plan: go" in s for s in summaries)
    assert len(automation_actions(platform)) == 1


def test_a_rejected_plan_changes_nothing(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    fault, incident_id = inject_and_alert(platform, store, SUBSET[0])
    with remediator(platform, store, chdb_home) as worker:
        worker.run(incident_id)
        result = worker.decide(incident_id, platform.user(OWNER), "reject", "not now")
    assert result.status == "rejected"
    assert automation_actions(platform) == []
    assert Simulation(platform.engine).truth(fault)["status"] == "active"


def test_business_hours_rules_wait_outside_them(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    # The sandbox clock starts on a Monday at midnight UTC: outside 09:00–18:00.
    policy = parse(
        ORG,
        {
            "name": "office",
            "rules": [{"operation": "application.rollback", "business_hours_only": True}],
        },
    )
    set_policy(platform, platform.user(OWNER), ORG, policy)
    _, incident_id = inject_and_alert(platform, store, SUBSET[0])
    with remediator(platform, store, chdb_home) as worker:
        assert worker.run(incident_id).waiting
    plan = incidents.detail(platform, platform.user(OWNER), incident_id)["plan"]
    assert "business hours only" in plan[0]["policy"]["why"]


WRONG = [
    (
        SUBSET[0],
        Step(
            "application.scale",
            {"org": ORG, "workspace": WS, "project": NS, "name": "checkout", "replicas": 3},
            "forced",
            {
                "operation": "application.scale",
                "params": {
                    "org": ORG,
                    "workspace": WS,
                    "project": NS,
                    "name": "checkout",
                    "replicas": 2,
                },
            },
        ),
    ),
    (
        SUBSET[2],
        Step(
            "application.scale",
            {"org": ORG, "workspace": WS, "project": NS, "name": "payments", "replicas": 3},
            "forced",
            {
                "operation": "application.scale",
                "params": {
                    "org": ORG,
                    "workspace": WS,
                    "project": NS,
                    "name": "payments",
                    "replicas": 2,
                },
            },
        ),
    ),
    (
        SUBSET[1],
        Step(
            "application.restart",
            {"org": ORG, "workspace": WS, "project": NS, "name": "frontend"},
            "forced",
        ),
    ),
]


@pytest.mark.parametrize(("case", "wrong"), WRONG, ids=[c.kind for c, _ in WRONG])
def test_a_wrong_mitigation_fails_verification_is_reverted_and_escalated(
    case: Case, wrong: Step, platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    allow(platform)
    fault, incident_id = inject_and_alert(platform, store, case)
    with remediator(platform, store, chdb_home) as worker:
        result = worker.run(incident_id, forced_plan=[wrong])
    assert result.status == "escalated"
    assert Simulation(platform.engine).truth(fault)["status"] == "active"
    record = incidents.detail(platform, platform.user(OWNER), incident_id)
    kinds = [e["kind"] for e in record["timeline"]]
    assert kinds[-3:] == ["verification", "escalation", "record"] or kinds[-4:-1] == [
        "verification",
        "rollback",
        "escalation",
    ]
    assert record["outcome"] == "failed"
    if wrong.undo:
        app = next(
            a
            for a in platform.applications(platform.user(OWNER), WS, NS, ORG)
            if a.name == wrong.params["name"]
        )
        assert app.replicas == 2  # the ineffective scale-up was reverted
        assert "rollback" in kinds


def test_a_killed_worker_resumes_without_repeating_the_action(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    allow(platform)
    fault, incident_id = inject_and_alert(platform, store, SUBSET[0])
    with remediator(platform, store, chdb_home) as worker, pytest.raises(SimulatedCrash):
        worker.run(incident_id, crash_after_step=0)
    assert automation_actions(platform) == ["application.rollback:succeeded"]
    assert incidents.row(platform, incident_id).status == "remediating"
    with remediator(platform, store, chdb_home) as fresh:  # another worker process
        result = fresh.run(incident_id)
        assert result.status == "resolved"
        assert fresh.run(incident_id).status == "resolved"  # a finished run never starts again
    assert automation_actions(platform) == ["application.rollback:succeeded"]
    assert Simulation(platform.engine).truth(fault)["status"] == "resolved"
    timeline = incidents.detail(platform, platform.user(OWNER), incident_id)["timeline"]
    assert [e["kind"] for e in timeline].count("action") == 1


def test_red_herrings_and_a_second_fault_do_not_mislead(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    """Critical CVEs in payments (a warning, unrelated) and a full disk in catalog (another
    fault) while checkout's new revision fails: checkout's alert names its bad deploy."""
    allow(platform)
    sim = Simulation(platform.engine)
    sim.inject("vulnerable_image", ORG, WS, "shop/payments")
    _, incident_id = inject_and_alert(
        platform, store, Case("bad_deploy_error_spike", "shop/checkout", 5, "rollout")
    )
    with remediator(platform, store, chdb_home) as worker:
        assert worker.run(incident_id).status == "resolved"
    record = incidents.detail(platform, platform.user(OWNER), incident_id)
    causes = [(h["cause"], h["workload"]) for h in record["hypotheses"]]
    assert causes[0] == ("bad_deploy", "checkout")
    assert ("vulnerable_image", "payments") in causes[1:]
    assert record["plan"][0]["operation"] == "application.rollback"


def test_the_incident_is_remembered_and_has_a_postmortem(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> None:
    allow(platform)
    _, incident_id = inject_and_alert(platform, store, SUBSET[1])
    with remediator(platform, store, chdb_home) as worker:
        worker.run(incident_id)
    owner = platform.user(OWNER)
    record = incidents.detail(platform, owner, incident_id)
    memory = list_incidents(platform, owner, org=ORG)
    assert [m.id for m in memory] == [record["memory_id"]]
    assert memory[0].outcome == "resolved"
    assert memory[0].time_to_resolve_seconds == record["time_to_resolve_seconds"] > 0
    text = postmortem.render(record)
    for heading in ("## Root cause", "## Hypotheses", "## Mitigation", "## Timeline"):
        assert heading in text
    assert "pod.delete" in text
    # Other organizations do not see it.
    with pytest.raises(Exception, match="not found"):
        incidents.detail(platform, platform.user("owner@globex.example"), incident_id)


def test_policies_are_set_by_owners_and_consulted_by_agent_approvals(
    platform: Platform, chdb_home: Path
) -> None:
    dev, owner = platform.user("dev@acme.example"), platform.user(OWNER)
    policy = parse(
        ORG,
        {"name": "restarts", "rules": [{"operation": "application.restart", "max_per_window": 1}]},
    )
    with pytest.raises(Forbidden):
        set_policy(platform, dev, ORG, policy)
    with pytest.raises(Exception, match="never pre-approve deletes"):
        parse(ORG, {"name": "x", "rules": [{"operation": "application.delete"}]})
    assert show(platform, dev, ORG) is None
    set_policy(platform, owner, ORG, policy)
    assert show(platform, dev, ORG) == policy
    view = platform.request(
        dev,
        "application.restart",
        {"workspace": WS, "project": NS, "name": "checkout"},
        dry_run=True,
    )
    context = AgentContext(
        ToolContext(platform, dev, Settings(home=chdb_home)), "s", "t", "offline", "offline"
    )
    covered, why = ApprovalMiddleware()._automation(context, view, {})
    assert covered, why
    assert "restarts" in (why or "")
