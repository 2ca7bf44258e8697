"""The driver contract: what the platform core asks of a cluster.

A driver turns recorded platform actions into cluster state and reads that state back. The
`sandbox` driver simulates a K3s host with vClusters in-process; the `kubernetes` driver talks to
a real host cluster. Both must pass `tests/drivers/conformance.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from hexaops.platform.domain import NodePool, Quota, Resources


class _Ref(BaseModel):
    model_config = ConfigDict(frozen=True)


class WorkspaceRef(_Ref):
    org: str
    workspace: str

    @property
    def host_namespace(self) -> str:
        """Namespace on the host cluster that holds this workspace's vCluster.

        Names may contain '-', so "acme"/"eu-prod" and "acme-eu"/"prod" read alike: a digest of
        the pair keeps them apart (at most 20 + 1 + 36 + 1 + 5 = 63 characters, a DNS label).
        """
        digest = hashlib.sha256(f"{self.org}/{self.workspace}".encode()).hexdigest()[:5]
        return f"{self.org}-{self.workspace}-{digest}"


class NamespaceRef(_Ref):
    org: str
    workspace: str
    namespace: str

    @property
    def workspace_ref(self) -> WorkspaceRef:
        return WorkspaceRef(org=self.org, workspace=self.workspace)


class WorkloadRef(_Ref):
    """An application (Deployment) or a function in a project namespace."""

    org: str
    workspace: str
    namespace: str
    name: str

    @property
    def namespace_ref(self) -> NamespaceRef:
        return NamespaceRef(org=self.org, workspace=self.workspace, namespace=self.namespace)


class WorkspaceSpec(BaseModel):
    plan: str
    kubernetes_version: str
    node_pool: NodePool | None = None


class ApplicationSpec(BaseModel):
    image: str
    replicas: int
    resources: Resources
    revision: int


class FunctionSpec(BaseModel):
    runtime: str
    image: str
    memory_bytes: int


class HpaSpec(BaseModel):
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int


class ObservedWorkspace(BaseModel):
    status: str  # "provisioning" | "ready" | "failed"
    message: str = ""
    api_endpoint: str = ""
    kubernetes_version: str = ""


class ObservedPod(BaseModel):
    """A pod as `kubectl get pods` / `describe` shows it."""

    name: str
    phase: str  # Pending | Running | Succeeded | Failed
    ready: bool
    restarts: int = 0
    node: str = ""
    # Why it is not running: the container's waiting reason (CrashLoopBackOff, ErrImagePull,
    # ImagePullBackOff, CreateContainerConfigError…) or the scheduler's (Unschedulable); "".
    reason: str = ""
    # Why its container last terminated (OOMKilled, Error, Completed); "" if it never did.
    last_state: str = ""


class ObservedApplication(BaseModel):
    image: str
    replicas: int
    ready_replicas: int
    revision: int
    resources: Resources
    restart_generation: int = 0
    pods: list[ObservedPod] = []
    hpa: HpaSpec | None = None


class ObservedFunction(BaseModel):
    runtime: str
    image: str
    memory_bytes: int
    concurrency: int | None = None
    max_instances: int | None = None


class ObservedNode(BaseModel):
    """A host node of a workspace's dedicated node pool."""

    name: str
    unschedulable: bool
    workload_pods: int = 0  # pods a drain would evict (not DaemonSet or static pods)


class ObservedCertificate(BaseModel):
    """A cert-manager Certificate: `revision` counts issuances, `issuing` a pending one."""

    ready: bool
    revision: int = 0
    issuing: bool = False


class ObservedComponent(BaseModel):
    """A system component of a vCluster (e.g. kube-system/coredns)."""

    ready: bool
    restart_generation: int = 0


class ObservedEvent(BaseModel):
    """A Kubernetes Event (core/v1) as `kubectl get events` shows it: one object per involved
    object and reason, repeated occurrences counted (`count`, first and last seen)."""

    kind: str  # involvedObject.kind: Deployment, Pod, HorizontalPodAutoscaler, …
    name: str  # involvedObject.name
    reason: str  # ScalingReplicaSet, Killing, OOMKilling, BackOff, …
    type: str  # Normal | Warning
    message: str
    count: int = 1
    first_seen: datetime
    last_seen: datetime


EVENT_LIMIT = 200  # most events one read returns (and the sandbox keeps per namespace)
LOG_TAIL_LINES = 200  # most log lines one read returns (and the sandbox keeps per pod)


def newest_last(
    events: Iterable[ObservedEvent], since: datetime | None, limit: int
) -> list[ObservedEvent]:
    """The contract's view of a namespace's events: last seen at or after `since`, ordered by
    last seen, the newest `limit` (at most EVENT_LIMIT) of them."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # naive times are UTC throughout hexaops
    kept = [e for e in events if since is None or e.last_seen >= since]
    kept.sort(key=lambda e: (e.last_seen, e.first_seen, e.kind, e.name, e.reason))
    wanted = min(limit, EVENT_LIMIT)
    return kept[-wanted:] if wanted > 0 else []


class PlatformDriver(Protocol):
    """Operations every cluster driver provides. Writes are idempotent: repeating one is safe."""

    name: str

    def provision_workspace(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> ObservedWorkspace: ...

    def delete_workspace(self, ref: WorkspaceRef) -> None: ...

    def get_workspace(self, ref: WorkspaceRef) -> ObservedWorkspace | None: ...

    def create_namespace(self, ref: NamespaceRef, quota: Quota) -> None: ...

    def set_quota(self, ref: NamespaceRef, quota: Quota) -> None: ...

    def delete_namespace(self, ref: NamespaceRef) -> None: ...

    def get_quota(self, ref: NamespaceRef) -> Quota | None: ...

    def apply_application(self, ref: WorkloadRef, spec: ApplicationSpec) -> ObservedApplication: ...

    def scale_application(self, ref: WorkloadRef, replicas: int) -> ObservedApplication: ...

    def restart_application(self, ref: WorkloadRef) -> ObservedApplication: ...

    def delete_application(self, ref: WorkloadRef) -> None: ...

    def get_application(self, ref: WorkloadRef) -> ObservedApplication | None: ...

    def set_hpa(self, ref: WorkloadRef, hpa: HpaSpec) -> None: ...

    def apply_function(self, ref: WorkloadRef, spec: FunctionSpec) -> ObservedFunction: ...

    def set_function_scaling(
        self, ref: WorkloadRef, concurrency: int, max_instances: int
    ) -> None: ...

    def delete_function(self, ref: WorkloadRef) -> None: ...

    def get_function(self, ref: WorkloadRef) -> ObservedFunction | None: ...

    # -- maintenance: nodes of a dedicated pool, pods, certificates, policies, DNS ------------

    def list_pool_nodes(self, ref: WorkspaceRef) -> list[ObservedNode]:
        """The host nodes of the workspace's dedicated pool; [] on the shared plan."""
        ...

    def cordon_node(self, ref: WorkspaceRef, node: str) -> None:
        """Mark a pool node unschedulable (`kubectl cordon`); DriverError if not in the pool."""
        ...

    def uncordon_node(self, ref: WorkspaceRef, node: str) -> None: ...

    def drain_node(self, ref: WorkspaceRef, node: str) -> int:
        """Cordon a pool node and evict its workload pods (`kubectl drain`); how many."""
        ...

    def delete_pod(self, ref: WorkloadRef, pod: str) -> ObservedApplication:
        """Delete one pod of an application; its Deployment replaces it. DriverError if the pod
        is not the application's."""
        ...

    # -- diagnostics: events and pod logs -----------------------------------------------------

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = None, limit: int = EVENT_LIMIT
    ) -> list[ObservedEvent]:
        """The namespace's events last seen at or after `since`, newest last, at most `limit`
        (capped at EVENT_LIMIT); DriverError if the namespace does not exist."""
        ...

    def read_pod_logs(
        self, ref: WorkloadRef, pod: str, tail_lines: int = LOG_TAIL_LINES
    ) -> list[str]:
        """The last `tail_lines` (capped at LOG_TAIL_LINES) log lines of one pod of an
        application; DriverError if the pod is not the application's."""
        ...

    def get_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate | None: ...

    def list_certificates(self, ref: NamespaceRef) -> dict[str, ObservedCertificate]:
        """The namespace's cert-manager Certificates by name, in name order; {} if it has none
        (or the namespace or workspace does not exist)."""
        ...

    def renew_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate:
        """Trigger re-issuance of a cert-manager Certificate (as `cmctl renew`)."""
        ...

    def list_network_policies(self, ref: NamespaceRef) -> list[str]: ...

    def delete_network_policy(self, ref: NamespaceRef, name: str) -> None: ...

    def get_coredns(self, ref: WorkspaceRef) -> ObservedComponent | None: ...

    def restart_coredns(self, ref: WorkspaceRef) -> ObservedComponent:
        """Rolling restart of the vCluster's CoreDNS (kube-system/coredns)."""
        ...
