"""The sandbox store: its constants, simulated clock and the object rows every part of the
driver reads and writes (one `sandbox_objects` row per cluster object)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform.db.models import SandboxClock, SandboxObject, utcnow
from hexaops.platform.domain import Plan
from hexaops.platform.drivers.contract import NamespaceRef, WorkspaceRef, WorkspaceSpec
from hexaops.platform.errors import DriverError

HOST = "host"
SHARED_NODES = ("k3s-shared-1", "k3s-shared-2", "k3s-shared-3")
EVENT = "Event"  # an aggregated Kubernetes Event: spec is an ObservedEvent
POD_LOG = "PodLog"  # a pod's last LOG_TAIL_LINES log lines: spec {"lines": [...]}
DIAGNOSTIC_KINDS = (EVENT, POD_LOG)
# The simulated clock starts here unless a Simulation chose another epoch; driver writes before
# the first simulation step are stamped with it, so events never jump from wall time back to it.
SANDBOX_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, midnight UTC
# hexaops.platform.sandbox.load.TICK_SECONDS; importing it here would be circular (the
# simulation package imports this driver).
_TICK_SECONDS = 15


def _digest(*parts: object, length: int = 10) -> str:
    text = "/".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def workspace_nodes(host_namespace: str, spec: WorkspaceSpec) -> list[str]:
    """Host nodes a workspace's pods run on: its own pool (dedicated) or the shared nodes."""
    if spec.plan == Plan.DEDICATED and spec.node_pool is not None:
        return [f"{host_namespace}-pool-{i + 1}" for i in range(spec.node_pool.nodes)]
    return list(SHARED_NODES)


def sandbox_time(session: Session) -> datetime:
    """The sandbox's simulated "now": what its Events are stamped with (not wall time)."""
    clock = session.get(SandboxClock, 1)
    if clock is None:
        return SANDBOX_EPOCH
    return clock.epoch.astimezone(UTC) + timedelta(seconds=clock.tick * _TICK_SECONDS)


def cordoned(session: Session, nodes: list[str]) -> set[str]:
    """Which of `nodes` are cordoned (a cordoned node is a host `Node` object in the store)."""
    return set(
        session.scalars(
            select(SandboxObject.name).where(
                SandboxObject.cluster == HOST,
                SandboxObject.kind == "Node",
                SandboxObject.name.in_(nodes),
            )
        )
    )


class _Store:
    """The session factory and row helpers every part of SandboxDriver builds on."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @staticmethod
    def _get(
        session: Session, cluster: str, kind: str, namespace: str, name: str
    ) -> SandboxObject | None:
        return session.get(SandboxObject, (cluster, kind, namespace, name), with_for_update=True)

    @staticmethod
    def _put(
        session: Session,
        cluster: str,
        kind: str,
        namespace: str,
        name: str,
        spec: dict[str, Any],
        status: dict[str, Any],
    ) -> None:
        """Create or replace an object in one statement, bumping its resourceVersion."""
        table = SandboxObject.__table__
        statement = insert(SandboxObject).values(
            cluster=cluster,
            kind=kind,
            namespace=namespace,
            name=name,
            spec=spec,
            status=status,
            resource_version=1,
            updated_at=utcnow(),
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["cluster", "kind", "namespace", "name"],
                set_={
                    "spec": statement.excluded.spec,
                    "status": statement.excluded.status,
                    "resource_version": table.c.resource_version + 1,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
        # The identity map may hold the old row (read earlier in this transaction).
        session.expire_all()

    def _require_vcluster(self, session: Session, ref: WorkspaceRef) -> SandboxObject:
        vcluster = self._get(session, HOST, "VCluster", ref.host_namespace, "vcluster")
        if vcluster is None:
            raise DriverError(f"workspace {ref.org}/{ref.workspace} has no vCluster in the sandbox")
        return vcluster

    def _require_namespace(self, session: Session, ref: NamespaceRef) -> SandboxObject:
        cluster = ref.workspace_ref.host_namespace
        self._require_vcluster(session, ref.workspace_ref)
        namespace = self._get(session, cluster, "Namespace", "", ref.namespace)
        if namespace is None:
            raise DriverError(
                f"namespace {ref.namespace} does not exist in workspace {ref.org}/{ref.workspace}"
            )
        return namespace
