"""The demo's live incident: acme-prod's checkout leaks memory and keeps getting OOMKilled.

Later parts (investigation, remediation, the chat demo) build on exactly this incident.
"""

from __future__ import annotations

from hexaops.platform.sandbox.simulation import Simulation

DEMO_INCIDENT = {
    "kind": "oom_memory_leak",
    "org": "acme",
    "workspace": "acme-prod",
    "target": "checkout",
}


def ensure_demo_incident(simulation: Simulation) -> int:
    """The id of the open demo incident, injecting it first when none is open."""
    status = simulation.status(DEMO_INCIDENT["org"], DEMO_INCIDENT["workspace"])
    for fault in status["faults"]:
        if (
            fault["kind"] == DEMO_INCIDENT["kind"]
            and fault["target"] == DEMO_INCIDENT["target"]
            and fault["status"] != "resolved"
        ):
            return int(fault["id"])
    incident = DEMO_INCIDENT
    return simulation.inject(
        incident["kind"], incident["org"], incident["workspace"], incident["target"]
    )
