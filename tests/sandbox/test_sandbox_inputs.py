"""Bad input to the sandbox API: a clear error, and nothing changed."""

from __future__ import annotations

import json

import pytest
from sandbox_support import CollectingSink

from hexaops.platform.core import Platform
from hexaops.platform.errors import Conflict, InvalidInput, NotFound, PlatformError
from hexaops.platform.sandbox import Simulation


@pytest.fixture
def sim(platform: Platform) -> Simulation:
    return Simulation(platform.engine)


def test_catalog_is_json_and_documents_ground_truth() -> None:
    catalog = Simulation.catalog()
    assert len(catalog) >= 15
    json.dumps(catalog)
    for entry in catalog:
        assert entry["root_cause"]
        assert entry["mitigations"]
        assert entry["wrong_mitigations"]
        assert entry["metrics"] or entry["logs"] or entry["events"]
        assert entry["target"] in {"Deployment", "Pod", "Node", "Workspace"}


@pytest.mark.parametrize(
    ("kind", "org", "workspace", "target", "at", "error", "phrase"),
    [
        ("no_such_fault", "acme", "acme-prod", "shop/checkout", 0, InvalidInput, "unknown fault"),
        ("oom_memory_leak", "acme", "acme-prod", "shop/nope", 0, NotFound, "does not exist"),
        ("oom_memory_leak", "acme", "globex-prod", "web/api", 0, NotFound, "acme/globex-prod"),
        ("oom_memory_leak", "acme", "acme-prod", "shop/checkout", -1, InvalidInput, "--at"),
        ("disk_full", "acme", "acme-prod", "shop/no-such-pod", 0, NotFound, "pod"),
        ("node_memory_pressure", "acme", "acme-prod", "k3s-shared-1", 0, NotFound, "node"),
        ("hpa_at_max", "acme", "acme-prod", "shop/checkout", 0, InvalidInput, "no HPA"),
        ("dns_failure", "acme", "acme-prod", "shop/checkout", 0, InvalidInput, "workspace"),
    ],
)
def test_bad_injections_are_refused_and_change_nothing(
    sim: Simulation,
    kind: str,
    org: str,
    workspace: str,
    target: str,
    at: float,
    error: type[PlatformError],
    phrase: str,
) -> None:
    before = sim.status("acme", "acme-prod")
    with pytest.raises(error, match=phrase):
        sim.inject(kind, org, workspace, target, at_minutes=at)
    assert sim.status("acme", "acme-prod") == before
    assert before["faults"] == []


def test_duplicate_fault_is_a_conflict(sim: Simulation) -> None:
    sim.inject("bad_deploy_error_spike", "acme", "acme-prod", "checkout")
    with pytest.raises(Conflict):
        sim.inject("bad_deploy_error_spike", "acme", "acme-prod", "shop/checkout")


@pytest.mark.parametrize("minutes", [-1.0, float("nan"), 10**9])
def test_bad_advance_is_refused(sim: Simulation, minutes: float) -> None:
    now = sim.now()
    with pytest.raises(InvalidInput):
        sim.advance(minutes, CollectingSink())
    assert sim.now() == now


def test_unknown_fault_and_workspace(sim: Simulation) -> None:
    with pytest.raises(NotFound):
        sim.truth(999)
    with pytest.raises(NotFound):
        sim.status("acme", "globex-prod")


def test_scheduled_fault_starts_at_its_minute(sim: Simulation) -> None:
    fault = sim.inject("crashloop_bad_config", "acme", "acme-prod", "shop/checkout", at_minutes=5)
    sim.advance(4, CollectingSink())
    assert sim.truth(fault)["status"] == "scheduled"
    sink = CollectingSink()
    report = sim.advance(2, sink)
    assert report.activated == [fault]
    truth = sim.truth(fault)
    assert truth["status"] == "active"
    assert truth["starts_at"] == "2026-01-05T00:05:00+00:00"
    assert truth["objects_at_fault"] == [
        {"kind": "Deployment", "namespace": "shop", "name": "checkout"}
    ]
    assert {e.reason for e in sink.events} == {"BackOff"}
