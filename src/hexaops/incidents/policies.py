"""Automation policies per organization, stored in PostgreSQL: what runs without a person.

A policy is the `AutomationPolicy` the agents' approvals use (allow-listed operation kinds with
bounds: at most N per window, scale within the HPA max, business hours only; never deletes
except a pod's). With no stored policy nothing is pre-approved: every remediation waits for an
owner or admin. Any member may read the policy; owners and admins may set it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hexaops.agents.approvals import AutomationPolicy
from hexaops.incidents.models import AutomationPolicyRow
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import Forbidden, InvalidInput, NotFound

SETTERS = ("owner", "admin")

EXAMPLE: dict[str, Any] = {
    "name": "safe-restarts",
    "rules": [
        {"operation": "application.restart", "max_per_window": 1, "window_minutes": 10},
        {"operation": "pod.delete", "max_per_window": 1, "window_minutes": 10},
        {"operation": "application.rollback", "max_per_window": 1, "window_minutes": 30},
        {"operation": "application.scale", "within_hpa_max": True},
        {"operation": "certificate.renew"},
    ],
    "business_hours": {"days": [0, 1, 2, 3, 4], "start_hour": 9, "end_hour": 18},
}


def _role(platform: Platform, principal: Principal, org: str) -> str:
    for o in platform.organizations(principal):
        if o.slug == org:
            return o.role
    raise NotFound(f"organization {org!r} not found")


def stored_policy(engine: Engine, org: str) -> AutomationPolicy | None:
    """The organization's stored policy (no authorization: callers act for the org already)."""
    with Session(engine) as session:
        row = session.get(AutomationPolicyRow, org)
        return None if row is None else AutomationPolicy.model_validate(row.policy)


def show(platform: Platform, principal: Principal, org: str) -> AutomationPolicy | None:
    _role(platform, principal, org)
    return stored_policy(platform.engine, org)


def parse(org: str, document: Any) -> AutomationPolicy:
    """A policy from a JSON/YAML document; `org` comes from the command, not the document."""
    if not isinstance(document, dict):
        raise InvalidInput("a policy is an object with a name and rules (see `policies show`)")
    try:
        return AutomationPolicy.model_validate({**document, "org": org})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "policy"
        raise InvalidInput(f"policy {where}: {first['msg']}") from None


def set_policy(
    platform: Platform, principal: Principal, org: str, policy: AutomationPolicy | None
) -> AutomationPolicy | None:
    """Store (or with None, remove) the organization's policy; owners and admins only."""
    role = _role(platform, principal, org)
    if role not in SETTERS:
        raise Forbidden(
            f"your role in {org} is {role}; setting the automation policy needs owner or admin"
        )
    with Session(platform.engine) as session, session.begin():
        if policy is None:
            row = session.get(AutomationPolicyRow, org)
            if row is not None:
                session.delete(row)
            return None
        values = {"policy": policy.model_dump(mode="json"), "updated_by": principal.id}
        session.execute(
            insert(AutomationPolicyRow)
            .values(org=org, **values)
            .on_conflict_do_update(index_elements=["org"], set_=values)
        )
    return policy


def orgs_with_policies(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(select(AutomationPolicyRow.org).order_by(AutomationPolicyRow.org))
        )
