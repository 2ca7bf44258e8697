"""Incident records: timeline writes (idempotent per step) and reads scoped to the principal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hexaops.incidents.models import IncidentAlert, IncidentEvent, IncidentRow
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput, NotFound

STATUSES = (
    "open",
    "investigating",
    "awaiting_approval",
    "remediating",
    "resolved",
    "escalated",
    "rejected",
)


def event(
    platform: Platform,
    incident_id: int,
    at: datetime,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
    step_key: str | None = None,
) -> None:
    """Append a timeline entry; with a step key, a second write of the same step is a no-op."""
    with platform.sessions.begin() as session:
        statement = insert(IncidentEvent).values(
            incident_id=incident_id,
            at=at,
            kind=kind,
            summary=summary,
            data=data or {},
            step_key=step_key,
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=["step_key"]))


def update(platform: Platform, incident_id: int, **fields: Any) -> None:
    with platform.sessions.begin() as session:
        row = session.get(IncidentRow, incident_id, with_for_update=True)
        if row is None:
            raise NotFound(f"incident {incident_id} not found")
        for name, value in fields.items():
            setattr(row, name, value)


def row(platform: Platform, incident_id: int) -> IncidentRow:
    with platform.sessions() as session:
        found = session.get(IncidentRow, incident_id)
        if found is None:
            raise NotFound(f"incident {incident_id} not found")
        return found


def _orgs(platform: Platform, principal: Principal) -> list[str]:
    return [o.slug for o in platform.organizations(principal)]


def visible(platform: Platform, principal: Principal, incident_id: int) -> IncidentRow:
    """The incident if the principal belongs to its organization ("not found" otherwise)."""
    with platform.sessions() as session:
        found = session.get(IncidentRow, incident_id)
    if found is None or found.org not in _orgs(platform, principal):
        raise NotFound(f"incident {incident_id} not found: `hexaops incidents list` shows yours")
    return found


def summary(r: IncidentRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "org": r.org,
        "workspace": r.workspace,
        "project": r.project,
        "workload": r.workload,
        "title": r.title,
        "severity": r.severity,
        "status": r.status,
        "firing": r.firing,
        "root_cause": r.root_cause,
        "outcome": r.outcome,
        "opened_at": r.opened_at.isoformat(),
        "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        "closed": r.closed_at is not None,
    }


def detail(platform: Platform, principal: Principal, incident_id: int) -> dict[str, Any]:
    """Everything about one incident: summary, objects, hypotheses, plan, alerts, timeline."""
    r = visible(platform, principal, incident_id)
    with platform.sessions() as session:
        alerts = session.scalars(
            select(IncidentAlert)
            .where(IncidentAlert.incident_id == incident_id)
            .order_by(IncidentAlert.id)
        ).all()
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        ).all()
    return {
        **summary(r),
        "objects": r.objects,
        "hypotheses": r.hypotheses,
        "plan": r.plan,
        "mitigation": r.mitigation,
        "narrative": r.narrative,
        "time_to_resolve_seconds": (r.resolved_at - r.opened_at).total_seconds()
        if r.resolved_at
        else None,
        "memory_id": r.memory_id,
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "alertname": a.alertname,
                "status": a.status,
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat() if a.ends_at else None,
                "received": a.received,
                "flaps": a.flaps,
                "labels": a.labels,
            }
            for a in alerts
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "summary": e.summary, "data": e.data}
            for e in events
        ],
    }


def listing(
    platform: Platform,
    principal: Principal,
    *,
    org: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    orgs = _orgs(platform, principal)
    if org is not None:
        if org not in orgs:
            raise NotFound(f"organization {org!r} not found")
        orgs = [org]
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    query = select(IncidentRow).where(IncidentRow.org.in_(orgs))
    if status is not None:
        query = query.where(IncidentRow.status == status)
    with Session(platform.engine) as session:
        rows = session.scalars(query.order_by(IncidentRow.id.desc()).limit(limit)).all()
    return [summary(r) for r in rows]
