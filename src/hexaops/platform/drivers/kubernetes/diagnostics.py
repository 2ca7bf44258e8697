"""Diagnostics: events and pod logs of the vCluster."""

from __future__ import annotations

from datetime import datetime

from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    NamespaceRef,
    ObservedEvent,
    WorkloadRef,
    newest_last,
)
from hexaops.platform.drivers.kubernetes.api import _api
from hexaops.platform.drivers.kubernetes.base import _app_pod, _DriverCore
from hexaops.platform.drivers.kubernetes.conversions import _observed_event


class _Diagnostics(_DriverCore):
    """Events and pod logs (in the vCluster)."""

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = None, limit: int = EVENT_LIMIT
    ) -> list[ObservedEvent]:
        cluster = self._require_namespace(ref)
        # The whole namespace, not `limit=`: the API pages in key order, not by time, so the
        # newest events are only known after reading all (the API server keeps them ~1 h).
        with _api(f"events in namespace {ref.namespace}"):
            items = cluster.core.list_namespaced_event(ref.namespace).items
        return newest_last((_observed_event(e) for e in items), since, limit)

    def read_pod_logs(
        self, ref: WorkloadRef, pod: str, tail_lines: int = LOG_TAIL_LINES
    ) -> list[str]:
        cluster = self._require_namespace(ref.namespace_ref)
        found = _app_pod(cluster, ref, pod)
        wanted = min(tail_lines, LOG_TAIL_LINES)
        if wanted <= 0:
            return []
        containers = [c.name for c in (found.spec.containers if found.spec else [])]
        # A pod with sidecars needs the container named; ours is "app".
        container = "app" if "app" in containers else None
        with _api(f"logs of pod {pod} in namespace {ref.namespace}"):
            text = cluster.core.read_namespaced_pod_log(
                pod, ref.namespace, container=container, tail_lines=wanted
            )
        # Bounded here too: a server (or proxy) that ignores tailLines must not flood the caller.
        return text.splitlines()[-wanted:]
