"""`POST /webhooks/alertmanager`: Alertmanager's webhook (v4) onto the event bus.

Each alert becomes one event on the ALERTS subject; the remediation workers take it from there
(`hexaops.ui.worker`). The message id is derived from what makes a notice distinct (fingerprint,
status, start and end), so a webhook Alertmanager re-sends — after a timeout, or from a second
Alertmanager of an HA pair — is stored once. Nothing is lost: the answer is 202 only after every
alert is on the bus; if the bus is unreachable the answer is 503 and Alertmanager retries.
Malformed payloads get a 422 problem document, oversized ones 413 (the API's body limit).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from hexaops.incidents.alerts import Alert
from hexaops.platform.bus import ALERTS, EventBus
from hexaops.platform.errors import ConfigurationError, InvalidInput
from hexaops.settings import Settings
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.auth import AuthError

log = logging.getLogger(__name__)
MAX_ALERTS = 1000  # Alertmanager's max_alerts is unlimited by default; one group rarely nears it


class AlertmanagerWebhook(BaseModel):
    """The body Alertmanager's webhook receiver sends (version 4)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    version: Literal["4"] = "4"
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = ""
    group_key: str = Field(default="", alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[Alert] = Field(min_length=1, max_length=MAX_ALERTS)


class Accepted(BaseModel):
    """What became of the webhook's alerts."""

    received: int = Field(description="Alerts in the payload.")
    queued: int = Field(description="Alerts put on the bus for the remediation workers.")
    duplicates: int = Field(description="Alerts already on the bus (a re-sent webhook).")


def message_id(alert: Alert) -> str:
    """The bus message id of one alert notice: the same notice, the same id."""
    starts = alert.starts_at.isoformat() if alert.starts_at else ""  # zero time: unset
    ends = alert.ends_at.isoformat() if alert.ends_at else ""
    key = f"{alert.fingerprint}|{alert.status}|{starts}|{ends}"
    return "alert:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def check_token(settings: Settings, authorization: str | None) -> None:
    """With HEXAOPS_ALERTMANAGER_TOKEN set, the caller must present it — as a bearer token
    (`http_config.authorization`) or as the password of basic auth (`http_config.basic_auth`)."""
    token = settings.alertmanager_token
    expected = token.get_secret_value() if token is not None else None
    if not expected:
        return
    given = _presented(authorization or "")
    if given is None or not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise AuthError(
            "this webhook needs the shared token of HEXAOPS_ALERTMANAGER_TOKEN: configure "
            "Alertmanager's webhook_configs http_config with `authorization: {credentials: …}` "
            "or `basic_auth: {password: …}`"
        )


def _presented(authorization: str) -> str | None:
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def bus_of(request: Request) -> EventBus:
    bus: EventBus | None = getattr(request.app.state, "bus", None)
    if bus is None:
        raise ConfigurationError("the event bus is not open: start the API with its lifespan")
    return bus


def _authorized(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> None:
    """A dependency: runs before the body is read, so a caller without the token learns
    nothing about the payload format."""
    check_token(request.app.state.services.settings, authorization)


router = APIRouter(tags=["alerts"])


@router.post(
    "/webhooks/alertmanager",
    status_code=202,
    summary="Alertmanager webhook: alerts in, investigated and remediated by the workers",
    description="Point an Alertmanager `webhook_configs` receiver here (`send_resolved: true`). "
    "Each alert is queued once for the remediation workers: duplicates and flapping alerts are "
    "grouped into their incident, not investigated again. With HEXAOPS_ALERTMANAGER_TOKEN set, "
    "send it as a bearer token or as the basic-auth password.",
    responses=problem_responses(401, 422, 503),
)
async def alertmanager(
    payload: AlertmanagerWebhook, request: Request, _: Annotated[None, Depends(_authorized)]
) -> Accepted:
    bus = bus_of(request)
    try:
        ids = [message_id(alert) for alert in payload.alerts]
    except UnicodeEncodeError:
        raise InvalidInput(
            "the alerts hold text that is not valid UTF-8 (a lone surrogate): nothing was queued"
        ) from None
    queued = 0
    for alert, msg_id in zip(payload.alerts, ids, strict=True):
        event: dict[str, Any] = alert.to_json()
        try:
            stored = await bus.publish(ALERTS, event, msg_id=msg_id)
        except Exception as exc:  # any bus failure: Alertmanager must retry, not drop it
            log.warning("alert %s not queued: %s", alert.fingerprint, exc)
            raise ConfigurationError(
                "the event bus did not take the alert (is NATS up?): retry — alerts already "
                "queued are not queued twice"
            ) from None
        queued += stored
    return Accepted(
        received=len(payload.alerts), queued=queued, duplicates=len(payload.alerts) - queued
    )


def mount_alertmanager(app: FastAPI) -> None:
    """Add the webhook to the API (its bus is the lifespan's `app.state.bus`)."""
    app.include_router(router)
