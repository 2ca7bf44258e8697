"""The sandbox driver: an in-process K3s host with one vCluster per workspace.

Cluster objects (vClusters, namespaces with quotas, deployments and their pods, HPAs, functions)
live in the `sandbox_objects` table, so every hexaops process sees the same sandbox. The
simulation is deterministic: pod names and node placement derive from names and revisions.
Runtime behaviour (load, telemetry, faults) is `hexaops.platform.sandbox.Simulation`, which reads
these objects and writes pod status back. Maintenance (cordon and drain of a dedicated pool's nodes,
pod deletion, certificate renewal, NetworkPolicy deletion, CoreDNS restart) is part of the driver
contract, reached through the platform core's maintenance operations.

The package: `store` (constants, clock, object rows), `diagnostics` (Events and pod logs) and
`driver`, which puts together the parts `workspaces`, `applications`, `maintenance` and
`diagnostics`.
"""

from __future__ import annotations

from hexaops.platform.drivers.sandbox.diagnostics import append_pod_logs, record_events
from hexaops.platform.drivers.sandbox.driver import SandboxDriver
from hexaops.platform.drivers.sandbox.store import _TICK_SECONDS as _TICK_SECONDS
from hexaops.platform.drivers.sandbox.store import (
    DIAGNOSTIC_KINDS,
    EVENT,
    HOST,
    POD_LOG,
    SANDBOX_EPOCH,
    SHARED_NODES,
    sandbox_time,
    workspace_nodes,
)

__all__ = [
    "DIAGNOSTIC_KINDS",
    "EVENT",
    "HOST",
    "POD_LOG",
    "SANDBOX_EPOCH",
    "SHARED_NODES",
    "SandboxDriver",
    "append_pod_logs",
    "record_events",
    "sandbox_time",
    "workspace_nodes",
]
