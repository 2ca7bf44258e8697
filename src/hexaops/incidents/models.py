"""Tables of incident remediation: incidents, their alerts and timelines, automation policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hexaops.platform.db.models import Base, utcnow


class IncidentRow(Base):
    """One incident: the alerts of one root object in one window, and what was done about it.

    At most one incident per group key is open (a partial unique index), so two workers taking
    alerts of the same object at once cannot open two incidents."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "uq_incidents_open_group",
            "group_key",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_incidents_org_opened", "org", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(39))
    project: Mapped[str | None] = mapped_column(String(63), nullable=True)
    workload: Mapped[str | None] = mapped_column(String(253), nullable=True)
    group_key: Mapped[str] = mapped_column(String(400))
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    # open → investigating → awaiting_approval | remediating → resolved | escalated → closed
    status: Mapped[str] = mapped_column(String(24), index=True)
    firing: Mapped[int] = mapped_column(Integer, default=0)  # alerts still firing
    root_cause: Mapped[str] = mapped_column(Text, default="")
    objects: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    hypotheses: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="unknown")
    narrative: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column()  # platform time of the first alert
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)  # platform time
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    memory_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IncidentAlert(Base):
    """One alert, deduplicated by its fingerprint; rejected alerts are kept with the reason."""

    __tablename__ = "incident_alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id"), nullable=True, index=True
    )
    alertname: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved
    # accepted | rejected (bad labels, unknown org/workload) | orphan (resolved, never fired)
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column()
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received: Mapped[int] = mapped_column(Integer, default=1)
    flaps: Mapped[int] = mapped_column(Integer, default=0)  # resolved → firing again
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IncidentEvent(Base):
    """One timeline entry of an incident (append-only)."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column()  # platform time
    kind: Mapped[str] = mapped_column(String(24))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A step's key makes a resumed worker's entry a no-op instead of a duplicate.
    step_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)


class AutomationPolicyRow(Base):
    """The automation policy of one organization (its rules as JSON, validated on write)."""

    __tablename__ = "automation_policies"

    org: Mapped[str] = mapped_column(String(20), primary_key=True)
    policy: Mapped[dict[str, Any]] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
