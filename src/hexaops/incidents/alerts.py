"""Alertmanager alerts: the webhook's shape, fingerprints, and what an alert is about.

An alert names its place with labels: `org` (or `organization`), `workspace`, then `project`
(or `namespace`) and `application` (or `deployment`/`workload`/`container`), `pod` or `node`.
`locate` maps them onto the platform's objects as the organization's automation principal sees
them, so an alert for an organization or workload that does not exist is refused with a reason,
never guessed at. The root object — the Deployment a pod belongs to, the node, or the workspace —
is what related alerts are grouped by.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hexaops.incidents.automation import automation
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput, NotFound

_ZERO_YEAR = 1  # Alertmanager sends endsAt "0001-01-01T00:00:00Z" for "not ended"
_APP_LABELS = ("application", "deployment", "workload", "container")


class Alert(BaseModel):
    """One alert as Alertmanager's webhook sends it (the fields hexaops uses)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    fingerprint: str = ""
    generator_url: str = Field(default="", alias="generatorURL")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None or value.year == _ZERO_YEAR:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def model_post_init(self, _context: Any) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.labels)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def fingerprint(labels: dict[str, str]) -> str:
    """A stable id of a label set (as Alertmanager's: the same labels, the same alert)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_alerts(payload: Any) -> list[Alert]:
    """Alerts from an Alertmanager webhook body, a list of alerts, or one alert."""
    if isinstance(payload, dict) and "alerts" in payload:
        payload = payload["alerts"]
    items = payload if isinstance(payload, list) else [payload]
    alerts = []
    for i, item in enumerate(items):
        try:
            alerts.append(Alert.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "alert"
            raise InvalidInput(
                f"alert {i}: {where}: {first['msg']} (an Alertmanager alert needs labels and "
                "startsAt)"
            ) from None
    return alerts


@dataclass(frozen=True)
class AlertTarget:
    """Where an alert points: its organization, workspace and root object."""

    org: str
    workspace: str
    project: str | None
    kind: str  # Deployment | Node | Workspace
    name: str
    pod: str | None = None

    @property
    def group_key(self) -> str:
        return f"{self.org}/{self.workspace}/{self.project or '-'}/{self.kind}/{self.name}"

    @property
    def workload(self) -> str | None:
        return f"{self.kind}/{self.name}" if self.kind != "Workspace" else None


def locate(platform: Platform, alert: Alert) -> AlertTarget:
    """The platform object an alert is about; InvalidInput/NotFound say what is wrong."""
    labels = alert.labels
    if not alert.name:
        raise InvalidInput("the alert has no alertname label")
    org = labels.get("org") or labels.get("organization")
    workspace = labels.get("workspace")
    if not org or not workspace:
        raise InvalidInput(
            f"alert {alert.name}: labels org and workspace are required to map it to a tenant "
            f"(got {', '.join(sorted(labels)) or 'none'})"
        )
    principal = automation(platform.engine, org)
    if workspace not in {w.name for w in platform.workspaces(principal, org)}:
        raise NotFound(f"alert {alert.name}: workspace {workspace!r} not found in {org}")
    node = labels.get("node")
    project = labels.get("project") or labels.get("namespace")
    app = next((labels[k] for k in _APP_LABELS if labels.get(k)), None)
    pod = labels.get("pod")
    if project is None:
        if node:
            return AlertTarget(org, workspace, None, "Node", node)
        if app or pod:
            raise InvalidInput(f"alert {alert.name}: a workload label needs a project label")
        return AlertTarget(org, workspace, None, "Workspace", workspace)
    apps = {a.name for a in platform.applications(principal, workspace, project, org)}
    if app is None and pod:
        app = next(
            (a for a in sorted(apps, key=len, reverse=True) if pod.startswith(a + "-")), None
        )
        if app is None:
            raise NotFound(
                f"alert {alert.name}: pod {pod!r} belongs to no application of {project}"
            )
    if app is None:
        if node:
            return AlertTarget(org, workspace, project, "Node", node)
        return AlertTarget(org, workspace, project, "Workspace", workspace)
    if app not in apps:
        raise NotFound(
            f"alert {alert.name}: application {app!r} not found in {org}/{workspace}/{project}"
        )
    return AlertTarget(org, workspace, project, "Deployment", app, pod)
