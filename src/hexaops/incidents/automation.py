"""The automation principal: who investigates and remediates an organization's incidents.

The platform already knows automation principals (`Principal.automation_org_id/_role`): they
act for exactly one organization, and `access.memberships` gives them that one scope. Incidents
use one stable id per organization, `automation:incidents@<org>`, so idempotency keys (unique
per requester) hold across a worker restart. Its role is the least the step needs: `viewer` to
investigate (reads only), and per action the lowest role the platform's permission matrix
allows for that operation (developer for application operations, admin for quotas, nodes,
NetworkPolicies and DNS). Nothing it requests runs unless the organization's automation policy
covers it or a person with the right role approved it (see `workflow`).
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hexaops.platform.access import PERMISSIONS
from hexaops.platform.db.models import Organization
from hexaops.platform.domain import Principal, Role
from hexaops.platform.errors import NotFound

_LEAST_FIRST = (Role.VIEWER, Role.DEVELOPER, Role.ADMIN, Role.OWNER)


def principal_id(org: str) -> str:
    return f"automation:incidents@{org}"


def org_id(engine: Engine, org: str) -> int:
    with Session(engine) as session:
        found = session.scalar(select(Organization.id).where(Organization.slug == org))
    if found is None:
        raise NotFound(f"organization {org!r} not found")
    return found


def least_role(operation: str) -> Role:
    """The lowest role the platform lets run `operation` (admin when nobody is listed)."""
    allowed = PERMISSIONS.get(operation, frozenset())
    return next((r for r in _LEAST_FIRST if r in allowed), Role.ADMIN)


def automation(engine: Engine, org: str, role: Role = Role.VIEWER) -> Principal:
    """The incidents' automation principal of `org` with `role`."""
    return Principal(
        id=principal_id(org), automation_org_id=org_id(engine, org), automation_role=role
    )
