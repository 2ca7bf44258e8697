"""Small readings several analyzers share: events about pods, times of log lines."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from hexaops.platform.drivers.contract import ObservedApplication, ObservedEvent
from hexaops.tools.diagnostics.scope import AppTarget, DiagnosticScope


def pod_events(
    scope: DiagnosticScope,
    app: AppTarget,
    observed: ObservedApplication,
    reasons: Collection[str],
) -> list[ObservedEvent]:
    """Events of the window about the application's current pods with one of `reasons`."""
    pods = {p.name for p in observed.pods}
    return [
        e
        for e in scope.events(app.project)
        if e.kind == "Pod" and e.name in pods and e.reason in reasons
    ]


def owner_of(scope: DiagnosticScope, project: str, object_name: str) -> AppTarget | None:
    """The application whose ReplicaSet or pod `object_name` is (Kubernetes names them
    `<deployment>-<hash>`): the longest application name it starts with."""
    owners = [
        a
        for a in scope.apps
        if a.project == project and (object_name == a.name or object_name.startswith(a.name + "-"))
    ]
    return max(owners, key=lambda a: len(a.name), default=None)


def line_time(line: str, default: datetime) -> datetime:
    """The timestamp a log line starts with (`kubectl logs --timestamps`), else `default`."""
    head = line.split(" ", 1)[0]
    try:
        moment = datetime.fromisoformat(head.replace("Z", "+00:00"))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def latest(times: Collection[datetime | None]) -> datetime | None:
    return max((t for t in times if t is not None), default=None)
