"""Organizations, their members and their audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from hexaops.platform.views import AuditView, MemberView, OrganizationView
from hexaops.ui.api.deps import PrincipalDep, ServicesDep
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.api.routes.params import OrgSlug

router = APIRouter(prefix="/api/orgs", tags=["organizations"])


@router.get("", summary="Organizations you belong to", responses=problem_responses(401))
def organizations(principal: PrincipalDep, services: ServicesDep) -> list[OrganizationView]:
    return services.platform.organizations(principal)


@router.get(
    "/{org}/members",
    summary="Members of an organization",
    responses=problem_responses(401, 404, 422),
)
def members(
    org: Annotated[str, Path(**OrgSlug)], principal: PrincipalDep, services: ServicesDep
) -> list[MemberView]:
    return services.platform.members(principal, org)


@router.get(
    "/{org}/audit",
    summary="Audit log of an organization (owners and admins)",
    responses=problem_responses(401, 403, 404, 422),
)
def audit(
    org: Annotated[str, Path(**OrgSlug)],
    principal: PrincipalDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditView]:
    return services.platform.audit(principal, org, limit)
