"""Incidents of your organizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from hexaops.ui.api.deps import PrincipalDep, ServicesDep
from hexaops.ui.api.incident_source import IncidentOut
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.api.routes.params import OrgSlug

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.get(
    "", summary="Recent incidents, newest first", responses=problem_responses(401, 404, 422)
)
def incidents(
    principal: PrincipalDep,
    services: ServicesDep,
    org: Annotated[str | None, Query(**OrgSlug)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[IncidentOut]:
    return services.incidents.list(principal, org, limit)


@router.get("/{incident_id}", summary="One incident", responses=problem_responses(401, 404, 422))
def incident(
    incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> IncidentOut:
    return services.incidents.get(principal, incident_id)
