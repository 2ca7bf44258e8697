"""The sandbox simulation: a deterministic K3s host with vClusters, faults and telemetry.

Public API (used by `hexaops sandbox …`, `hexaops bench sandbox`, tests and evaluations):

    sim = Simulation(engine, seed=42)
    Simulation.catalog() -> list[dict]              # the fault catalog, JSON-able
    sim.inject(kind, org, workspace, target, at_minutes=0) -> fault id
    sim.advance(minutes, sink) -> AdvanceReport      # telemetry goes to a TelemetrySink
    sim.status(org, workspace) -> dict
    sim.truth(fault_id) -> dict                      # ground truth: never show it to agents
"""

from hexaops.platform.sandbox.faults import CATALOG, FaultKind, catalog
from hexaops.platform.sandbox.simulation import AdvanceReport, Simulation

__all__ = ["CATALOG", "AdvanceReport", "FaultKind", "Simulation", "catalog"]
