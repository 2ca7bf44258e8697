"""Incidents as the API shows them, behind a small adapter.

Today they come from incident memory (`hexaops.knowledge.incidents`: closed incidents);
live incidents (`hexaops.incidents`, in progress) plug in as another `IncidentSource`
passed to `create_app(..., incidents=...)` without touching the routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from hexaops.knowledge.incidents import IncidentView, get_incident, list_incidents
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal


class IncidentOut(BaseModel):
    """An incident as the API shows it, whichever source it comes from."""

    id: int
    org: str
    workspace: str | None
    title: str
    status: str = Field(
        description="open or resolved (incident memory); live incidents also go through "
        "investigating, awaiting_approval, remediating, escalated, closed."
    )
    severity: str | None = None
    symptoms: str = ""
    findings: str = ""
    root_cause: str
    mitigation: str
    outcome: str
    opened_at: datetime
    resolved_at: datetime | None


class IncidentSource(Protocol):
    """What the incident routes need; NotFound for what the principal may not see."""

    def list(self, principal: Principal, org: str | None, limit: int) -> list[IncidentOut]: ...

    def get(self, principal: Principal, incident_id: int) -> IncidentOut: ...


class IncidentMemory:
    """The incident memory of the knowledge base as an IncidentSource."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def list(self, principal: Principal, org: str | None, limit: int) -> list[IncidentOut]:
        return [_out(v) for v in list_incidents(self.platform, principal, org=org, limit=limit)]

    def get(self, principal: Principal, incident_id: int) -> IncidentOut:
        return _out(get_incident(self.platform, principal, incident_id))


def _out(view: IncidentView) -> IncidentOut:
    return IncidentOut(
        id=view.id,
        org=view.org,
        workspace=view.workspace,
        title=view.title,
        status="resolved" if view.resolved_at is not None else "open",
        symptoms=view.symptoms,
        findings=view.findings,
        root_cause=view.root_cause,
        mitigation=view.mitigation,
        outcome=view.outcome,
        opened_at=view.created_at,
        resolved_at=view.resolved_at,
    )
