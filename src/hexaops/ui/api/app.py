"""The API app: `create_app(settings, ...)` builds it, its lifespan owns the components.

Pass a running platform/agent service (tests, other processes) or let the lifespan open them:
the embedded PostgreSQL and chDB (or the configured servers) start with the app and stop with
it. Other interfaces extend the app after creation (`app.mount("/chat", ...)`,
`app.include_router(...)`) and reach the components as `app.state.services` (see deps.py).

With `alerts=True` the app takes Alertmanager's webhook onto the event bus (`app.state.bus`),
forwards the bus' notifications to its WebSocket hub and lists the live incidents of the
remediation pipeline; with `worker=True` it also runs the remediation worker in-process (the
embedded setup; with NATS, `hexaops worker` processes may do it instead).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field
from sqlalchemy import select

from hexaops.agents.service import AgentService
from hexaops.incidents import store
from hexaops.incidents.models import IncidentRow
from hexaops.platform.bus import EventBus
from hexaops.platform.core import Platform, open_platform
from hexaops.platform.domain import Principal
from hexaops.settings import Settings
from hexaops.ui.api.deps import PrincipalDep, Services
from hexaops.ui.api.incident_source import IncidentMemory, IncidentOut, IncidentSource
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
    {"name": "alerts", "description": "Alertmanager webhook → event bus → remediation workers."},
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
    alerts: bool = False,
    worker: bool = False,
    worker_concurrency: int = 1,
    bus: EventBus | None = None,
) -> FastAPI:
    """The API. Components not given are opened by the lifespan (and closed after):
    the platform from `settings`, an AgentService on it (with `model`, else the configured
    provider), incidents from incident memory (live incidents with `alerts`), the event bus
    (with `alerts`: `bus`, else NATS or in-process as configured), traces as
    HEXAOPS_OTEL_EXPORTER says."""
    # Imported here: the worker imports the API's notifications module (this package).
    from hexaops.ui.webhooks import mount_alertmanager
    from hexaops.ui.worker import (
        IncidentDecisions,
        RemediationWorker,
        forward_notifications,
        open_event_bus,
    )

    check_auth_settings(settings)
    metrics = Metrics()
    hub = notifier or Notifier()
    alerts = alerts or worker

    async def open_alerts(stack: AsyncExitStack, app: FastAPI, plat: Platform) -> None:
        events = bus
        if events is None:
            events = await open_event_bus(settings)
            stack.push_async_callback(events.close)
        app.state.bus = events
        stack.push_async_callback((await forward_notifications(events, hub)).stop)
        app.state.decisions = IncidentDecisions(plat, settings, events)
        stack.push_async_callback(app.state.decisions.close)
        if worker:
            remediation = RemediationWorker(plat, settings, events, concurrency=worker_concurrency)
            stack.push_async_callback(remediation.stop)
            await remediation.start()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            hub.bind(asyncio.get_running_loop())
            plat = platform or stack.enter_context(open_platform(settings))
            service = agents or stack.enter_context(AgentService(settings, plat, model=model))
            traces = tracing or Tracing(settings.otel_exporter)
            stack.callback(traces.shutdown)
            runner = TurnRunner(service, metrics, traces, settings.api_turn_workers)
            default_incidents = LiveIncidents(plat) if alerts else IncidentMemory(plat)
            app.state.services = Services(
                settings=settings,
                platform=plat,
                agents=service,
                notifier=hub,
                incidents=incidents_source or default_incidents,
                metrics=metrics,
                tracing=traces,
                turns=runner,
            )
            if alerts:
                await open_alerts(stack, app, plat)
            # What startup made (modules, compiled graphs, pools) lives as long as the server:
            # moved out of the collector's way, full collections under load only scan what
            # requests allocate — they were the largest stalls of the event loop. (Garbage is
            # collected first, not frozen with the rest.)
            gc.collect()
            gc.freeze()
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
    if alerts:
        mount_alertmanager(app)
        app.include_router(decisions)
    _document_problems(app)
    return app


class IncidentDecision(BaseModel):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=2000, description="Why, for the timeline.")


decisions = APIRouter(prefix="/api/incidents", tags=["incidents"])


@decisions.post(
    "/{incident_id}/decision",
    summary="Approve or reject the remediation plan of an incident waiting for it",
    description="Owners and admins of the incident's organization. Approving runs the plan, "
    "verifies recovery and records the outcome before answering (seconds in the sandbox).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decide_incident(
    incident_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    body: IncidentDecision,
    principal: PrincipalDep,
    request: Request,
) -> IncidentOut:
    plat: Platform = request.app.state.services.platform
    await request.app.state.decisions.decide(principal, incident_id, body.decision, body.note)
    return await asyncio.to_thread(LiveIncidents(plat).get, principal, incident_id)


class LiveIncidents:
    """The incidents of the alert pipeline (`hexaops.incidents`: open, in remediation,
    closed) as an IncidentSource."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def list(self, principal: Principal, org: str | None, limit: int) -> list[IncidentOut]:
        ids = [i["id"] for i in store.listing(self.platform, principal, org=org, limit=limit)]
        with self.platform.sessions() as session:
            rows = session.scalars(
                select(IncidentRow).where(IncidentRow.id.in_(ids)).order_by(IncidentRow.id.desc())
            ).all()
        return [_live(r) for r in rows]

    def get(self, principal: Principal, incident_id: int) -> IncidentOut:
        return _live(store.visible(self.platform, principal, incident_id))


def _live(row: IncidentRow) -> IncidentOut:
    resolved: datetime | None = row.resolved_at
    return IncidentOut(
        id=row.id,
        org=row.org,
        workspace=row.workspace,
        title=row.title,
        status=row.status,
        severity=row.severity,
        symptoms="; ".join(h.get("title", "") for h in row.hypotheses[:1]),
        findings=row.narrative,
        root_cause=row.root_cause,
        mitigation=row.mitigation,
        outcome=row.outcome,
        opened_at=row.opened_at,
        resolved_at=resolved,
    )


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
