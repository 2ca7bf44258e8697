"""What the simulation runs on: the cluster objects of the sandbox store, as one snapshot.

The driver owns the objects (vClusters, namespaces, deployments and their pods, HPAs, nodes);
the simulation reads them at the start of every `advance` and after it changed them (HPA), so
every operation of the platform core shows up in the next tick, as it would on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.domain import NodePool, Plan, Quota
from hexaops.platform.drivers.contract import ApplicationSpec, HpaSpec, WorkspaceSpec
from hexaops.platform.drivers.sandbox import DIAGNOSTIC_KINDS, HOST, SHARED_NODES, workspace_nodes
from hexaops.platform.names import parse_cpu, parse_memory

# A shared host node of the demo K3s cluster (dedicated pools size theirs in NodePool).
SHARED_NODE_CPU_MILLIS = 8_000
SHARED_NODE_MEMORY_BYTES = 32 * 2**30
NODE_DISK_BYTES = 100 * 2**30
# What the kubelet and system daemons reserve: allocatable = capacity - reserved.
RESERVED_CPU_MILLIS = 500
RESERVED_MEMORY_BYTES = 2 * 2**30


@dataclass(frozen=True)
class Node:
    name: str
    org: str  # "" for shared nodes
    workspace: str
    cpu_millis: int
    memory_bytes: int
    cordoned: bool

    @property
    def allocatable_cpu_millis(self) -> int:
        return self.cpu_millis - RESERVED_CPU_MILLIS

    @property
    def allocatable_memory_bytes(self) -> int:
        return self.memory_bytes - RESERVED_MEMORY_BYTES


@dataclass(frozen=True)
class Deployment:
    cluster: str  # host namespace of the vCluster
    org: str
    workspace: str
    namespace: str
    name: str
    spec: ApplicationSpec
    restart_generation: int
    pods: list[dict[str, Any]]
    hpa: HpaSpec | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.cluster, self.namespace, self.name)


@dataclass(frozen=True)
class FunctionWorkload:
    cluster: str
    org: str
    workspace: str
    namespace: str
    name: str
    concurrency: int
    max_instances: int


@dataclass
class Topology:
    workspaces: dict[str, tuple[str, str]] = field(default_factory=dict)  # cluster → (org, ws)
    nodes: list[Node] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    functions: list[FunctionWorkload] = field(default_factory=list)
    quotas: dict[tuple[str, str], Quota] = field(default_factory=dict)  # (cluster, namespace)
    # Add-on objects faults and mitigations touch: (cluster, kind, namespace, name) → spec.
    addons: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)

    def deployment(self, cluster: str, namespace: str, name: str) -> Deployment | None:
        return next((d for d in self.deployments if d.key == (cluster, namespace, name)), None)

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)


_ADDON_KINDS = ("NetworkPolicy", "Certificate", "SystemComponent")


def _names(spec: dict[str, Any], cluster: str) -> tuple[str, str]:
    """org/workspace of a vCluster (older objects lack them: fall back to the host namespace)."""
    return str(spec.get("org", cluster)), str(spec.get("workspace", cluster))


def load_topology(session: Session) -> Topology:
    """Read every object of the sandbox into one consistent snapshot (one query)."""
    objects = session.scalars(
        select(SandboxObject)
        # Events and pod logs are diagnostics the simulation writes, never inputs to it.
        .where(SandboxObject.kind.not_in(DIAGNOSTIC_KINDS))
        .order_by(
            SandboxObject.cluster, SandboxObject.kind, SandboxObject.namespace, SandboxObject.name
        )
    ).all()
    topo = Topology()
    cordoned = {o.name for o in objects if o.cluster == HOST and o.kind == "Node"}
    hpas: dict[tuple[str, str, str], HpaSpec] = {}
    shared = [
        Node(n, "", "", SHARED_NODE_CPU_MILLIS, SHARED_NODE_MEMORY_BYTES, n in cordoned)
        for n in SHARED_NODES
    ]
    dedicated: list[Node] = []
    for o in objects:
        if o.cluster == HOST and o.kind == "VCluster":
            org, workspace = _names(o.spec, o.namespace)
            topo.workspaces[o.namespace] = (org, workspace)
            spec = WorkspaceSpec.model_validate(o.spec)
            if spec.plan == Plan.DEDICATED and spec.node_pool is not None:
                pool: NodePool = spec.node_pool
                dedicated.extend(
                    Node(
                        n,
                        org,
                        workspace,
                        parse_cpu(pool.cpu_per_node),
                        parse_memory(pool.memory_per_node),
                        n in cordoned,
                    )
                    for n in workspace_nodes(o.namespace, spec)
                )
        elif o.kind == "HorizontalPodAutoscaler":
            hpas[(o.cluster, o.namespace, o.name)] = HpaSpec.model_validate(o.spec)
        elif o.kind == "Namespace":
            topo.quotas[(o.cluster, o.name)] = Quota.model_validate(o.spec["quota"])
        elif o.kind in _ADDON_KINDS:
            topo.addons[(o.cluster, o.kind, o.namespace, o.name)] = dict(o.spec)
    topo.nodes = shared + dedicated
    for o in objects:
        if o.cluster not in topo.workspaces:
            continue
        org, workspace = topo.workspaces[o.cluster]
        if o.kind == "Deployment":
            topo.deployments.append(
                Deployment(
                    cluster=o.cluster,
                    org=org,
                    workspace=workspace,
                    namespace=o.namespace,
                    name=o.name,
                    spec=ApplicationSpec.model_validate(o.spec),
                    restart_generation=int(o.spec.get("restart_generation", 0)),
                    pods=list(o.status.get("pods", [])),
                    hpa=hpas.get((o.cluster, o.namespace, o.name)),
                )
            )
        elif o.kind == "Function":
            topo.functions.append(
                FunctionWorkload(
                    cluster=o.cluster,
                    org=org,
                    workspace=workspace,
                    namespace=o.namespace,
                    name=o.name,
                    concurrency=int(o.status.get("concurrency") or 10),
                    max_instances=int(o.status.get("max_instances") or 10),
                )
            )
    return topo
