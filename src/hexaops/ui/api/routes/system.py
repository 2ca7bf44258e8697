"""Health and metrics: unauthenticated, outside /api (probes and scrapers call them)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from hexaops.ui.api.deps import ServicesDep

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: Literal["ok"]


@router.get("/healthz", summary="Liveness and readiness")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics of hexaops itself",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(services: ServicesDep) -> Response:
    services.metrics.websockets.set(services.notifier.subscribers)
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
