"""Who am I, and the embedded demo's dev login."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hexaops.platform.errors import Forbidden, NotFound
from hexaops.platform.views import OrganizationView
from hexaops.ui.api.deps import PrincipalDep, ServicesDep
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.auth import EMAIL, AuthError, dev_login_enabled, dev_token

router = APIRouter(prefix="/api", tags=["auth"])
DEV_TOKEN_TTL = 8 * 3600


class Me(BaseModel):
    email: str
    organizations: list[OrganizationView]


class DevLogin(BaseModel):
    email: str = Field(
        pattern=f"^{EMAIL.pattern}$",
        max_length=254,
        description="A platform user, e.g. owner@acme.example.",
    )


class DevToken(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


@router.get(
    "/me",
    summary="The authenticated user and their organizations",
    responses=problem_responses(401),
)
def me(principal: PrincipalDep, services: ServicesDep) -> Me:
    return Me(email=principal.id, organizations=services.platform.organizations(principal))


@router.post(
    "/auth/dev-token",
    summary="DEMO ONLY — dev login: a token for a platform user, without a password",
    description="Only in the embedded demo (dev login enabled: no OIDC issuer and no external "
    "database, or HEXAOPS_DEV_LOGIN=true). Anyone who can reach the API can act as any user: "
    "never enable it in production. Elsewhere it answers 403.",
    responses=problem_responses(401, 403, 422),
)
def dev_login(body: DevLogin, services: ServicesDep) -> DevToken:
    if not dev_login_enabled(services.settings):
        raise Forbidden("dev login is disabled here: sign in with your identity provider")
    try:
        services.platform.user(body.email)
    except NotFound:
        raise AuthError(f"{body.email} is not a platform user") from None
    token = dev_token(services.settings, body.email, DEV_TOKEN_TTL)
    return DevToken(access_token=token, expires_in=DEV_TOKEN_TTL)
