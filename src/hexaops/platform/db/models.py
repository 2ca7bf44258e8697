"""Tables of the platform core (SQLAlchemy 2, PostgreSQL).

Names of live objects are unique among the objects that are not deleted (partial unique
indexes), so a concurrent create of the same name fails in the database, not in a race.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def live_name_unique(table: str, parent: str) -> Index:
    """Names are unique among a parent's objects that are not deleted."""
    return Index(
        f"uq_{table}_live_name",
        parent,
        "name",
        unique=True,
        postgresql_where=text("status <> 'deleted'"),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[dict[str, Any]]: JSONB,
        datetime: DateTime(timezone=True),
    }


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Workspace(Base):
    """A vCluster on the host cluster."""

    __tablename__ = "workspaces"
    __table_args__ = (live_name_unique("workspaces", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(39))
    plan: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    status_message: Mapped[str] = mapped_column(Text, default="")
    kubernetes_version: Mapped[str] = mapped_column(String(16))
    node_pool: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()


class Project(Base):
    """A namespace inside a workspace, with a resource quota."""

    __tablename__ = "projects"
    __table_args__ = (live_name_unique("projects", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    cpu_millis: Mapped[int] = mapped_column(Integer)
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    pods: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    workspace: Mapped[Workspace] = relationship()


class Application(Base):
    """A Deployment in a project; each change of image or resources is a new revision."""

    __tablename__ = "applications"
    __table_args__ = (live_name_unique("applications", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    image: Mapped[str] = mapped_column(String(500))
    replicas: Mapped[int] = mapped_column(Integer)
    resources: Mapped[dict[str, Any]] = mapped_column()
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Past revisions, oldest first: [{"revision", "image", "resources"}] — what rollback returns to.
    history: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship()


class Function(Base):
    """A serverless function in a project (scales on concurrency, may scale to zero)."""

    __tablename__ = "functions"
    __table_args__ = (live_name_unique("functions", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    runtime: Mapped[str] = mapped_column(String(32))
    image: Mapped[str] = mapped_column(String(500))
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship()


class ScalingPolicy(Base):
    """HPA of an application (min/max/target CPU) or concurrency scaling of a function."""

    __tablename__ = "scaling_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id"), unique=True, nullable=True
    )
    function_id: Mapped[int | None] = mapped_column(
        ForeignKey("functions.id"), unique=True, nullable=True
    )
    min_replicas: Mapped[int] = mapped_column(Integer)
    max_replicas: Mapped[int] = mapped_column(Integer)
    target_cpu_percent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrency: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Action(Base):
    """One requested change: its plan, approval state and result."""

    __tablename__ = "actions"
    __table_args__ = (
        Index(
            "uq_actions_idempotency",
            "requested_by",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    operation: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column()
    target: Mapped[str] = mapped_column(String(300))
    plan: Mapped[dict[str, Any]] = mapped_column()
    risk: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(320))
    # The requesting principal as authenticated (user or automation policy): a pending action
    # is planned again as this principal when it is approved.
    principal: Mapped[dict[str, Any]] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """Append-only record of every state change of every action, and of bootstrap changes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id"), nullable=True, index=True
    )
    actor: Mapped[str] = mapped_column(String(320))
    event: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    plan: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SandboxObject(Base):
    """State of the sandbox cluster — its etcd, kept in SQL the way k3s keeps state via kine.

    `cluster` is "host" for host-cluster objects, else the host namespace of a workspace's vCluster.
    """

    __tablename__ = "sandbox_objects"

    cluster: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resource_version: Mapped[int] = mapped_column(BigInteger, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SandboxClock(Base):
    """The simulated clock of the sandbox (one row): its seed and how far it has run."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    epoch: Mapped[datetime] = mapped_column()  # simulated wall time at tick 0
    tick: Mapped[int] = mapped_column(BigInteger, default=0)  # ticks run so far (15 s each)


class SandboxFault(Base):
    """An injected fault, its progress, and its ground truth (never shown to agents)."""

    __tablename__ = "sandbox_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(80), index=True)
    org: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(39))
    namespace: Mapped[str] = mapped_column(String(63))
    target: Mapped[str] = mapped_column(String(253))
    start_tick: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # scheduled|active|resolved
    resolved_tick: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # What the target looked like when the fault began: mitigations are judged against it.
    baseline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Event counts and other evolving state, so repeated events aggregate like kubectl's.
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    truth: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxWorkloadState(Base):
    """Runtime state of a workload that outlives one `advance` (counters, memory, instances).

    A Deployment's row is keyed by its name and holds one record per pod; a function's row is
    keyed by "function/<name>" ('/' is not valid in Kubernetes names, so the two never collide).
    """

    __tablename__ = "sandbox_workload_states"

    cluster: Mapped[str] = mapped_column(String(80), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    # {pod: {"cpu_s", "mem", "restarts", "requests_ok", "requests_err", "buckets": [...], ...}}
    pods: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The knowledge engine's, the agents' and the incidents' tables live on the same metadata (one
# schema, one migration history).
import hexaops.agents.models  # noqa: E402
import hexaops.incidents.models  # noqa: E402
import hexaops.knowledge.models  # noqa: E402, F401
