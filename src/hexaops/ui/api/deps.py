"""What routes depend on: the app's services and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.settings import Settings
from hexaops.ui.api.incident_source import IncidentSource
from hexaops.ui.api.notifications import Notifier
from hexaops.ui.api.observability import Metrics, Tracing
from hexaops.ui.api.turns import TurnRunner
from hexaops.ui.auth import AuthError, authenticate


@dataclass
class Services:
    """Everything the routes use; `app.state.services` once the app has started."""

    settings: Settings
    platform: Platform
    agents: AgentService
    notifier: Notifier
    incidents: IncidentSource
    metrics: Metrics
    tracing: Tracing
    turns: TurnRunner


def services_of(connection: HTTPConnection) -> Services:
    services: Services | None = getattr(connection.app.state, "services", None)
    if services is None:
        raise RuntimeError("the API's services are not started (run the app's lifespan)")
    return services


def get_services(request: Request) -> Services:
    return services_of(request)


_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An OIDC access token of your identity provider, or (embedded demo only) a "
    "dev-login token from POST /api/auth/dev-token.",
)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <JWT>` (sync: JWKS/DB lookups run in a thread)."""
    if credentials is None:
        raise AuthError("missing bearer token: send `Authorization: Bearer <token>`")
    services = services_of(request)
    return authenticate(services.platform, services.settings, credentials.credentials)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
