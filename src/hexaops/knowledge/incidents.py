"""Incident memory: what happened before in an organization, what was done, whether it worked.

Incidents are always private to their organization. `record_incident` is what remediation
(and people) call when an incident closes; `similar_incidents` finds the past incidents that
looked like this one; `feedback` lets people say whether a suggestion or a mitigation helped.

Ranking of similar incidents (all factors shown in the result):

    score = similarity × outcome_weight × feedback_factor

- similarity: cosine similarity of the problem descriptions (title, symptoms, findings, root
  cause — not the mitigation: we match on the problem, then show what was done); candidates
  below MIN_SIMILARITY are dropped;
- outcome_weight: resolved 1.0, mitigated 0.9, unknown 0.7, failed 0.4 — an incident whose
  mitigation worked is a better guide than one whose mitigation failed (a failed one still
  shows, lower: it says what not to try);
- feedback_factor: 1 + 0.05 × feedback_score clamped to [-5, 5], i.e. 0.75…1.25.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hexaops.knowledge.embeddings import Embedder
from hexaops.knowledge.models import Incident
from hexaops.knowledge.search import principal_orgs
from hexaops.platform.core import Platform
from hexaops.platform.db.models import Organization
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput, NotFound

Outcome = Literal["resolved", "mitigated", "failed", "unknown"]
Feedback = Literal["helpful", "not_helpful", "mitigation_worked", "mitigation_failed"]
OUTCOME_WEIGHT: Final[dict[str, float]] = {
    "resolved": 1.0,
    "mitigated": 0.9,
    "unknown": 0.7,
    "failed": 0.4,
}
MIN_SIMILARITY: Final = 0.3
FEEDBACK_STEP: Final = 0.05
FEEDBACK_CLAMP: Final = 5


class IncidentView(BaseModel):
    id: int
    org: str
    workspace: str | None
    title: str
    symptoms: str
    findings: str
    root_cause: str
    mitigation: str
    outcome: str
    time_to_resolve_seconds: float | None
    created_at: datetime
    resolved_at: datetime | None
    feedback_score: int
    source: str

    @classmethod
    def of(cls, row: Incident) -> IncidentView:
        return cls.model_validate(row, from_attributes=True)


class SimilarIncident(BaseModel):
    incident: IncidentView
    score: float
    similarity: float
    outcome_weight: float
    feedback_factor: float


def _problem_text(title: str, symptoms: str, findings: str, root_cause: str) -> str:
    parts = [title, symptoms, findings, f"Root cause: {root_cause}" if root_cause else ""]
    return "\n".join(p for p in parts if p)


def record_incident(
    engine: Engine,
    embedder: Embedder,
    *,
    org: str,
    title: str,
    symptoms: str,
    workspace: str | None = None,
    findings: str = "",
    root_cause: str = "",
    mitigation: str = "",
    outcome: Outcome = "unknown",
    created_at: datetime | None = None,
    resolved_at: datetime | None = None,
    source: str = "",
) -> IncidentView:
    """Remember an incident of `org` (time to resolve = resolved_at - created_at). The caller
    has authorized the write (remediation records what its own pipeline did)."""
    if not title.strip() or not symptoms.strip():
        raise InvalidInput("an incident needs a title and its symptoms")
    if outcome not in OUTCOME_WEIGHT:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOME_WEIGHT)}")
    if created_at and resolved_at and resolved_at < created_at:
        raise InvalidInput("resolved_at is before created_at")
    vector = embedder.embed([_problem_text(title, symptoms, findings, root_cause)])[0]
    with Session(engine) as session, session.begin():
        if session.scalar(select(Organization.id).where(Organization.slug == org)) is None:
            raise NotFound(f"organization {org!r} not found")
        row = Incident(
            org=org,
            workspace=workspace,
            title=title[:300],
            symptoms=symptoms,
            findings=findings,
            root_cause=root_cause,
            mitigation=mitigation,
            outcome=outcome,
            resolved_at=resolved_at,
            time_to_resolve_seconds=(
                (resolved_at - created_at).total_seconds() if created_at and resolved_at else None
            ),
            feedback_score=0,
            source=source[:120],
            embedding=vector,
            embedder=embedder.name,
        )
        if created_at is not None:
            row.created_at = created_at
        session.add(row)
        session.flush()
        return IncidentView.of(row)


def _visible(
    session: Session,
    platform: Platform,
    principal: Principal,
    incident_id: int,
    *,
    lock: bool = False,
) -> Incident:
    row = session.get(Incident, incident_id, with_for_update=lock)
    if row is None or row.org not in principal_orgs(platform, principal):
        raise NotFound(f"incident {incident_id} not found")
    return row


def get_incident(platform: Platform, principal: Principal, incident_id: int) -> IncidentView:
    with Session(platform.engine) as session:
        return IncidentView.of(_visible(session, platform, principal, incident_id))


def list_incidents(
    platform: Platform, principal: Principal, *, org: str | None = None, limit: int = 20
) -> list[IncidentView]:
    """The most recent incidents of the principal's organizations (or of `org`)."""
    orgs = principal_orgs(platform, principal)
    if org is not None:
        if org not in orgs:
            raise NotFound(f"organization {org!r} not found")
        orgs = [org]
    with Session(platform.engine) as session:
        rows = session.scalars(
            select(Incident)
            .where(Incident.org.in_(orgs))
            .order_by(Incident.created_at.desc(), Incident.id.desc())
            .limit(limit)
        )
        return [IncidentView.of(r) for r in rows]


def similar_incidents(
    platform: Platform,
    principal: Principal,
    embedder: Embedder,
    *,
    incident_id: int | None = None,
    description: str | None = None,
    org: str | None = None,
    limit: int = 5,
) -> list[SimilarIncident]:
    """Past incidents like incident `incident_id` (of the same organization) or like
    `description` (in the principal's organizations, or `org`), best first."""
    if (incident_id is None) == (description is None or not description.strip()):
        raise InvalidInput("give either an incident id or a description of the problem")
    orgs = principal_orgs(platform, principal)
    if org is not None:
        if org not in orgs:
            raise NotFound(f"organization {org!r} not found")
        orgs = [org]
    if not orgs:
        return []
    with Session(platform.engine) as session:
        if incident_id is not None:
            anchor = _visible(session, platform, principal, incident_id)
            query_vector = list(anchor.embedding)
            orgs, exclude, model = [anchor.org], anchor.id, anchor.embedder
        else:
            query_vector = [float(x) for x in embedder.embed([description or ""])[0]]
            exclude, model = -1, embedder.name
        # Exact scan within the organization: incident memory is small, and exact is exact.
        rows = session.execute(
            select(Incident, (1 - Incident.embedding.cosine_distance(query_vector)).label("sim"))
            .where(Incident.org.in_(orgs), Incident.id != exclude, Incident.embedder == model)
            .order_by(Incident.embedding.cosine_distance(query_vector))
            .limit(max(limit * 5, 50))
        ).all()
        ranked = []
        for row, sim in rows:
            if sim < MIN_SIMILARITY:
                continue
            weight = OUTCOME_WEIGHT.get(row.outcome, OUTCOME_WEIGHT["unknown"])
            clamped = max(-FEEDBACK_CLAMP, min(FEEDBACK_CLAMP, row.feedback_score))
            factor = 1 + FEEDBACK_STEP * clamped
            ranked.append(
                SimilarIncident(
                    incident=IncidentView.of(row),
                    score=round(float(sim) * weight * factor, 4),
                    similarity=round(float(sim), 4),
                    outcome_weight=weight,
                    feedback_factor=round(factor, 4),
                )
            )
    ranked.sort(key=lambda s: -s.score)
    return ranked[:limit]


def feedback(
    platform: Platform, principal: Principal, incident_id: int, kind: Feedback
) -> IncidentView:
    """Record feedback on an incident shown as similar: helpful ±1 to its score; a mitigation
    that worked (when applied again) marks it resolved and adds 2; one that failed marks it
    failed and subtracts 2. Any member of the incident's organization may give feedback."""
    delta = {"helpful": 1, "not_helpful": -1, "mitigation_worked": 2, "mitigation_failed": -2}
    if kind not in delta:
        raise InvalidInput(f"feedback must be one of {', '.join(delta)}")
    with Session(platform.engine) as session, session.begin():
        row = _visible(session, platform, principal, incident_id, lock=True)
        row.feedback_score += delta[kind]
        if kind == "mitigation_worked" and row.outcome != "resolved":
            row.outcome = "resolved"
        elif kind == "mitigation_failed":
            row.outcome = "failed"
        session.flush()
        return IncidentView.of(row)
