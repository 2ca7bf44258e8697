"""Workspaces (vClusters), their projects (namespaces) and what runs in them — reads.
Changes go through POST /api/actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from hexaops.platform.views import ApplicationView, FunctionView, ProjectView, WorkspaceView
from hexaops.ui.api.deps import PrincipalDep, ServicesDep
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.api.routes.params import Name, OrgSlug

router = APIRouter(prefix="/api/workspaces", tags=["workspaces"])
OrgQuery = Annotated[
    str | None, Query(**OrgSlug | {"description": "Organization (when a name is ambiguous)."})
]
Workspace = Annotated[str, Path(**Name)]
Project = Annotated[str, Path(**Name)]
_ERRORS = problem_responses(401, 404, 422)


@router.get("", summary="Workspaces you can see", responses=_ERRORS)
def workspaces(
    principal: PrincipalDep, services: ServicesDep, org: OrgQuery = None
) -> list[WorkspaceView]:
    return services.platform.workspaces(principal, org)


@router.get("/{workspace}/projects", summary="Projects of a workspace", responses=_ERRORS)
def projects(
    workspace: Workspace, principal: PrincipalDep, services: ServicesDep, org: OrgQuery = None
) -> list[ProjectView]:
    return services.platform.projects(principal, workspace, org)


@router.get(
    "/{workspace}/projects/{project}/applications",
    summary="Applications of a project",
    responses=_ERRORS,
)
def applications(
    workspace: Workspace,
    project: Project,
    principal: PrincipalDep,
    services: ServicesDep,
    org: OrgQuery = None,
) -> list[ApplicationView]:
    return services.platform.applications(principal, workspace, project, org)


@router.get(
    "/{workspace}/projects/{project}/functions",
    summary="Functions of a project",
    responses=_ERRORS,
)
def functions(
    workspace: Workspace,
    project: Project,
    principal: PrincipalDep,
    services: ServicesDep,
    org: OrgQuery = None,
) -> list[FunctionView]:
    return services.platform.functions(principal, workspace, project, org)
