"""Demo data every later part (demo, tests, eval scenarios) builds on — by these exact names.

Organizations, users and memberships are bootstrapped directly (there is nobody yet to act as);
everything else goes through the action pipeline as the organization's owner, with idempotency
keys, so seeding twice changes nothing and the audit log shows how the demo was built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hexaops.platform.core import Platform
from hexaops.platform.db.models import AuditEvent, Membership, Organization, User
from hexaops.platform.domain import ActionStatus, Role
from hexaops.platform.errors import Conflict

ORGS: dict[str, dict[str, Any]] = {
    "acme": {
        "display_name": "Acme Corp",
        "members": {
            "owner@acme.example": Role.OWNER,
            "dev@acme.example": Role.DEVELOPER,
            "viewer@acme.example": Role.VIEWER,
        },
        "workspaces": {
            "acme-prod": {
                "plan": "dedicated",
                "projects": {"shop": ["frontend", "checkout", "payments", "catalog"]},
            },
            "acme-staging": {
                "plan": "shared",
                "projects": {"shop": ["frontend", "checkout", "payments", "catalog"]},
            },
        },
    },
    "globex": {
        "display_name": "Globex Inc",
        "members": {"owner@globex.example": Role.OWNER},
        "workspaces": {"globex-prod": {"plan": "shared", "projects": {"web": ["api", "worker"]}}},
    },
}

# What each demo application runs: image, replicas, cpu request, memory request, memory limit.
APPS: dict[str, tuple[str, int, str, str, str]] = {
    "frontend": ("ghcr.io/acme/frontend:2.3.1", 3, "100m", "128Mi", "256Mi"),
    "checkout": ("ghcr.io/acme/checkout:1.4.2", 2, "250m", "256Mi", "512Mi"),
    "payments": ("ghcr.io/acme/payments:3.0.7", 2, "250m", "256Mi", "512Mi"),
    "catalog": ("ghcr.io/acme/catalog:1.9.0", 2, "200m", "256Mi", "512Mi"),
    "api": ("ghcr.io/globex/api:5.2.0", 3, "250m", "256Mi", "512Mi"),
    "worker": ("ghcr.io/globex/worker:5.2.0", 2, "500m", "512Mi", "1Gi"),
}


_SEED_LOCK = 0x6865786101  # arbitrary, stable advisory lock id


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def _bootstrap(session: Session, report: SeedReport) -> None:
    # Two seeds at once (two processes on a fresh home) take turns; the second finds it all.
    session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SEED_LOCK})
    for slug, org_spec in ORGS.items():
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            org = Organization(slug=slug, display_name=org_spec["display_name"])
            session.add(org)
            session.flush()
            session.add(
                AuditEvent(
                    org_id=org.id,
                    actor="system:seed",
                    event="org.created",
                    operation="org.create",
                    target=slug,
                )
            )
            report.created.append(f"organization {slug}")
        for email, role in org_spec["members"].items():
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email, display_name=email.split("@")[0].title())
                session.add(user)
                session.flush()
            if session.get(Membership, (org.id, user.id)) is None:
                session.add(Membership(org_id=org.id, user_id=user.id, role=role.value))
                session.add(
                    AuditEvent(
                        org_id=org.id,
                        actor="system:seed",
                        event="member.added",
                        operation="member.add",
                        target=f"{slug}/members/{email}",
                        result={"role": role.value},
                    )
                )
                report.created.append(f"member {email} ({role.value})")


def seed(platform: Platform) -> SeedReport:
    """Create the demo organizations and their workloads; safe to run any number of times."""
    report = SeedReport()
    with platform.sessions.begin() as session:
        _bootstrap(session, report)
    for slug, org_spec in ORGS.items():
        owner = platform.user(next(e for e, r in org_spec["members"].items() if r is Role.OWNER))
        for ws_name, ws in org_spec["workspaces"].items():
            steps: list[tuple[str, dict[str, Any]]] = [
                ("workspace.create", {"org": slug, "name": ws_name, "plan_name": ws["plan"]})
            ]
            for project, apps in ws["projects"].items():
                steps.append(
                    (
                        "project.create",
                        {
                            "org": slug,
                            "workspace": ws_name,
                            "name": project,
                            "cpu": "4",
                            "memory": "8Gi",
                            "pods": 40,
                        },
                    )
                )
                for app in apps:
                    image, replicas, cpu, memory, memory_limit = APPS[app]
                    steps.append(
                        (
                            "application.deploy",
                            {
                                "org": slug,
                                "workspace": ws_name,
                                "project": project,
                                "name": app,
                                "image": image,
                                "replicas": replicas,
                                "cpu_request": cpu,
                                "memory_request": memory,
                                "memory_limit": memory_limit,
                            },
                        )
                    )
            for kind, params in steps:
                key = (
                    f"seed:{kind}:{slug}/{ws_name}/{params.get('name')}/{params.get('project', '')}"
                )
                view = platform.request(owner, kind, params, idempotency_key=key)
                (report.existing if view.replayed else report.created).append(
                    f"{kind} {view.target}"
                )
                if view.replayed and view.id is not None:  # maybe still running in another seed
                    view = platform.wait_for(owner, view.id)
                if view.status != ActionStatus.SUCCEEDED:
                    raise Conflict(
                        f"seeding stopped: {kind} {view.target} is {view.status}: {view.error}"
                    )
    return report
