"""The API app: `create_app(settings, ...)` builds it, its lifespan owns the components.

Pass a running platform/agent service (tests, other processes) or let the lifespan open them:
the embedded PostgreSQL and chDB (or the configured servers) start with the app and stop with
it. Other interfaces extend the app after creation (`app.mount("/chat", ...)`,
`app.include_router(...)`) and reach the components as `app.state.services` (see deps.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform, open_platform
from hexaops.settings import Settings
from hexaops.ui.api.deps import Services
from hexaops.ui.api.incident_source import IncidentMemory, IncidentSource
from hexaops.ui.api.limits import BodySizeLimit
from hexaops.ui.api.notifications import Notifier
from hexaops.ui.api.observability import Metrics, RequestMetrics, Tracing
from hexaops.ui.api.problems import Problem, install_problem_handlers, problem_responses
from hexaops.ui.api.routes import (
    actions,
    auth,
    incidents,
    notifications,
    orgs,
    sessions,
    system,
    workspaces,
)
from hexaops.ui.api.turns import TurnRunner
from hexaops.ui.auth import check_auth_settings


def _version() -> str:
    try:
        return version("hexaops")
    except PackageNotFoundError:
        return "0.0.0"


TAGS = [
    {"name": "auth", "description": "OIDC bearer tokens; a dev login in the embedded demo."},
    {"name": "organizations", "description": "Organizations, members, audit."},
    {"name": "workspaces", "description": "Workspaces, projects, applications, functions."},
    {"name": "actions", "description": "Every change: request, dry run, approve, reject."},
    {"name": "incidents", "description": "Incidents of your organizations."},
    {"name": "chat", "description": sessions.__doc__ or ""},
    {"name": "notifications", "description": "WebSocket at /api/notifications."},
    {"name": "system", "description": "Health and Prometheus metrics."},
]


def create_app(
    settings: Settings,
    platform: Platform | None = None,
    agents: AgentService | None = None,
    *,
    model: BaseChatModel | None = None,
    incidents_source: IncidentSource | None = None,
    notifier: Notifier | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The API. Components not given are opened by the lifespan (and closed after):
    the platform from `settings`, an AgentService on it (with `model`, else the configured
    provider), incidents from incident memory, traces as HEXAOPS_OTEL_EXPORTER says."""
    check_auth_settings(settings)
    metrics = Metrics()
    hub = notifier or Notifier()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            hub.bind(asyncio.get_running_loop())
            plat = platform or stack.enter_context(open_platform(settings))
            service = agents or stack.enter_context(AgentService(settings, plat, model=model))
            traces = tracing or Tracing(settings.otel_exporter)
            stack.callback(traces.shutdown)
            runner = TurnRunner(service, metrics, traces, settings.api_turn_workers)
            app.state.services = Services(
                settings=settings,
                platform=plat,
                agents=service,
                notifier=hub,
                incidents=incidents_source or IncidentMemory(plat),
                metrics=metrics,
                tracing=traces,
                turns=runner,
            )
            try:
                yield
            finally:
                await runner.drain()

    app = FastAPI(
        title="hexaops API",
        version=_version(),
        description="AI-ops assistant of a multi-tenant Kubernetes platform. Errors are RFC "
        "7807 problem details (application/problem+json).",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    for router in (system, auth, orgs, workspaces, actions, incidents, sessions, notifications):
        app.include_router(router.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """Complete the OpenAPI document with what middleware and handlers answer on every route:
    the Problem schema, 400 (undecodable body) and 413 (body too large) where a route takes a
    body, and 401 where it takes a token."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Problem", Problem.model_json_schema())
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                extra = [400, 413] if "requestBody" in operation else []
                extra += [401] if operation.get("security") else []
                for status, entry in problem_responses(*extra).items():
                    operation.setdefault("responses", {}).setdefault(str(status), entry)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
