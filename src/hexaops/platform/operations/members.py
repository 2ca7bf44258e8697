"""Membership operations: who belongs to an organization, with which role."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator
from sqlalchemy import func, select

from hexaops.platform.access import Scope, require_org
from hexaops.platform.db.models import Membership, User
from hexaops.platform.domain import Risk, Role
from hexaops.platform.drivers.contract import PlatformDriver
from hexaops.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"invalid email address {value!r}")
    return email


class _MemberOperation(Operation):
    org: str
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    def scope(self, ctx: OpContext) -> Scope:
        return require_org(ctx.session, ctx.principal, self.org)

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        # Membership lives in the platform database; vCluster RBAC follows it (kubernetes driver).
        return {}


class AddMember(_MemberOperation):
    """Add a person to an organization with a role (creating their platform user if new)."""

    kind: ClassVar[str] = "member.add"

    role: Role

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: object) -> Role:
        return value if isinstance(value, Role) else Role.parse(str(value))

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        if self.role is Role.OWNER and scope.role is not Role.OWNER:
            raise Forbidden(f"only an owner of {self.org} can add another owner")
        existing = ctx.session.scalar(
            select(Membership)
            .join(User)
            .where(Membership.org_id == scope.org.id, User.email == self.email)
        )
        if existing is not None:
            raise Conflict(f"{self.email} is already a {existing.role} of {self.org}")
        return ActionPlan(
            summary=f"add {self.email} to {self.org} as {self.role.value}",
            target=f"{self.org}/members/{self.email}",
            changes=[
                Change(
                    op="create", kind="Membership", name=self.email, after={"role": self.role.value}
                )
            ],
            refs={"org_id": scope.org.id},
        )

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        user = ctx.session.scalar(select(User).where(User.email == self.email))
        if user is None:
            user = User(email=self.email, display_name=self.email.split("@")[0])
            ctx.session.add(user)
            ctx.session.flush()
        ctx.session.add(
            Membership(org_id=plan.refs["org_id"], user_id=user.id, role=self.role.value)
        )


class RemoveMember(_MemberOperation):
    """Remove a person from an organization."""

    kind: ClassVar[str] = "member.remove"
    risk: ClassVar[Risk] = Risk.HIGH

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        member = ctx.session.scalar(
            select(Membership)
            .join(User)
            .where(Membership.org_id == scope.org.id, User.email == self.email)
        )
        if member is None:
            raise NotFound(f"{self.email} is not a member of {self.org}")
        if member.role == Role.OWNER:
            if scope.role is not Role.OWNER:
                raise Forbidden(f"only an owner of {self.org} can remove an owner")
            owners = ctx.session.scalar(
                select(func.count()).where(
                    Membership.org_id == scope.org.id, Membership.role == Role.OWNER
                )
            )
            if owners == 1:
                raise Conflict(
                    f"{self.email} is the last owner of {self.org}: add another owner first"
                )
        return ActionPlan(
            summary=f"remove {self.email} ({member.role}) from {self.org}",
            target=f"{self.org}/members/{self.email}",
            changes=[
                Change(
                    op="delete", kind="Membership", name=self.email, before={"role": member.role}
                )
            ],
            refs={"org_id": scope.org.id, "user_id": member.user_id},
        )

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        member = ctx.session.get(Membership, (plan.refs["org_id"], plan.refs["user_id"]))
        if member is not None:
            ctx.session.delete(member)
