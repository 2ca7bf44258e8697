"""Alert intake: dedupe by fingerprint, group by root object, tolerate flapping and disorder.

One short transaction per alert, serialized per group key by a PostgreSQL advisory lock (and
backed by the partial unique index on open incidents), so concurrent workers never open two
incidents for one object and never lose an alert. Every alert leaves a row — accepted,
rejected with the reason, or an orphan resolve — so bad input is a record, not a crash.

Outcomes: `opened` (a new incident: investigate it), `grouped` (joined an open incident),
`duplicate` (seen already), `flapping` (fired again soon after resolving: no new investigation),
`resolved`, `stale` (older than what is known: ignored), `orphan` (resolved, never seen firing),
`rejected` (unknown organization or workload, missing labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hexaops.incidents.alerts import Alert, AlertTarget, locate
from hexaops.incidents.models import IncidentAlert, IncidentEvent, IncidentRow
from hexaops.platform.core import Platform
from hexaops.platform.errors import PlatformError

FLAP_WINDOW: Final = timedelta(minutes=15)
Outcome = Literal[
    "opened", "grouped", "duplicate", "flapping", "resolved", "stale", "orphan", "rejected"
]


@dataclass
class Intake:
    """What happened to one alert."""

    fingerprint: str
    alertname: str
    outcome: Outcome
    incident_id: int | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class IntakeReport:
    results: list[Intake] = field(default_factory=list)

    @property
    def opened(self) -> list[int]:
        return [r.incident_id for r in self.results if r.outcome == "opened" and r.incident_id]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out


def ingest(platform: Platform, alerts: list[Alert]) -> IntakeReport:
    """Take a batch of alerts (each in its own transaction, in the order given)."""
    report = IntakeReport()
    for alert in alerts:
        report.results.append(ingest_one(platform, alert))
    return report


def ingest_one(platform: Platform, alert: Alert) -> Intake:
    try:
        target = locate(platform, alert)
    except PlatformError as exc:
        _reject(platform, alert, exc.message)
        return Intake(alert.fingerprint, alert.name, "rejected", note=exc.message)
    with platform.sessions.begin() as session:
        session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(target.group_key, 0)))
        )
        row = session.scalar(
            select(IncidentAlert)
            .where(IncidentAlert.fingerprint == alert.fingerprint)
            .with_for_update()
        )
        if alert.status == "firing":
            return _firing(session, alert, target, row)
        return _resolved(session, alert, row)


def _firing(
    session: Session, alert: Alert, target: AlertTarget, row: IncidentAlert | None
) -> Intake:
    def result(outcome: Outcome, incident: IncidentRow | None, note: str = "") -> Intake:
        return Intake(
            alert.fingerprint, alert.name, outcome, incident.id if incident else None, note
        )

    if row is not None and row.state == "accepted":
        incident = session.get(IncidentRow, row.incident_id) if row.incident_id else None
        if row.status == "firing":
            row.received += 1
            return result("duplicate", incident)
        if row.ends_at is not None and alert.starts_at <= row.ends_at:
            row.received += 1
            return result("stale", incident, "a firing notice older than the alert's resolve")
        flapping = row.ends_at is not None and alert.starts_at - row.ends_at <= FLAP_WINDOW
        if incident is not None and (incident.closed_at is None or flapping):
            row.status, row.starts_at, row.ends_at = "firing", alert.starts_at, None
            row.flaps += 1
            row.received += 1
            incident.firing += 1
            _event(
                session,
                incident,
                alert.starts_at,
                "alert",
                f"{alert.name} fired again (flap {row.flaps}): no new investigation",
                alert.to_json(),
            )
            return result("flapping", incident)
    incident = session.scalar(
        select(IncidentRow)
        .where(IncidentRow.group_key == target.group_key, IncidentRow.closed_at.is_(None))
        .with_for_update()
    )
    outcome: Outcome = "grouped"
    if incident is None:
        incident = _open(session, alert, target)
        outcome = "opened"
    incident.firing += 1
    if incident.severity != "critical" and alert.severity == "critical":
        incident.severity = "critical"
    values = {
        "incident_id": incident.id,
        "alertname": alert.name[:200],
        "status": "firing",
        "state": "accepted",
        "note": "",
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at,
        "ends_at": None,
    }
    _upsert(session, alert.fingerprint, values)
    _event(
        session,
        incident,
        alert.starts_at,
        "alert",
        f"{alert.name} firing: "
        f"{alert.annotations.get('summary') or alert.annotations.get('description') or ''}".rstrip(
            ": "
        ),
        alert.to_json(),
    )
    return result(outcome, incident)


def _resolved(session: Session, alert: Alert, row: IncidentAlert | None) -> Intake:
    ends = alert.ends_at or alert.starts_at
    if row is None or row.state != "accepted":
        note = "resolved before it was seen firing: nothing to investigate"
        _upsert(
            session,
            alert.fingerprint,
            {
                "incident_id": None,
                "alertname": alert.name[:200],
                "status": "resolved",
                "state": "orphan",
                "note": note,
                "labels": alert.labels,
                "annotations": alert.annotations,
                "starts_at": alert.starts_at,
                "ends_at": ends,
            },
        )
        return Intake(alert.fingerprint, alert.name, "orphan", note=note)
    incident = session.get(IncidentRow, row.incident_id) if row.incident_id else None
    incident_id = incident.id if incident else None
    if row.status == "resolved":
        row.received += 1
        return Intake(alert.fingerprint, alert.name, "duplicate", incident_id)
    if ends < row.starts_at:
        row.received += 1
        return Intake(
            alert.fingerprint,
            alert.name,
            "stale",
            incident_id,
            "a resolve older than the alert's latest firing",
        )
    row.status, row.ends_at = "resolved", ends
    row.received += 1
    if incident is not None:
        incident.firing = max(0, incident.firing - 1)
        text = f"{alert.name} resolved"
        if incident.firing == 0:
            text += "; no alert of this incident fires any more"
            if incident.status == "resolved" and incident.closed_at is None:
                incident.closed_at = ends
        _event(session, incident, ends, "alert", text, alert.to_json())
    return Intake(alert.fingerprint, alert.name, "resolved", incident_id)


def _open(session: Session, alert: Alert, target: AlertTarget) -> IncidentRow:
    summary = alert.annotations.get("summary") or alert.name
    where = target.name if target.kind != "Workspace" else target.workspace
    incident = IncidentRow(
        org=target.org,
        workspace=target.workspace,
        project=target.project,
        workload=target.workload,
        group_key=target.group_key,
        title=f"{alert.name} on {where}: {summary}"[:300]
        if summary != alert.name
        else f"{alert.name} on {where}",
        severity=alert.severity if alert.severity in ("critical", "warning", "info") else "warning",
        status="open",
        firing=0,
        opened_at=alert.starts_at,
    )
    session.add(incident)
    session.flush()
    return incident


def _upsert(session: Session, fingerprint: str, values: dict[str, Any]) -> None:
    statement = insert(IncidentAlert).values(fingerprint=fingerprint, received=1, flaps=0, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["fingerprint"],
            set_={**values, "received": IncidentAlert.received + 1, "updated_at": func.now()},
        )
    )


def _reject(platform: Platform, alert: Alert, reason: str) -> None:
    with platform.sessions.begin() as session:
        _upsert(
            session,
            alert.fingerprint,
            {
                "incident_id": None,
                "alertname": (alert.name or "(no alertname)")[:200],
                "status": alert.status,
                "state": "rejected",
                "note": reason,
                "labels": alert.labels,
                "annotations": alert.annotations,
                "starts_at": alert.starts_at,
                "ends_at": alert.ends_at,
            },
        )


def _event(
    session: Session,
    incident: IncidentRow,
    at: datetime,
    kind: str,
    summary: str,
    data: dict[str, Any],
) -> None:
    session.add(
        IncidentEvent(incident_id=incident.id, at=at, kind=kind, summary=summary, data=data)
    )
