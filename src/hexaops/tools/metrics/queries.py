"""The PromQL of each metrics question. The Prometheus backend runs it; the ClickHouse backend
computes the same thing in SQL and cites it as the equivalent query."""

from __future__ import annotations

from typing import Final

from hexaops.tools.metrics.backend import Resource, Signal
from hexaops.tools.metrics.workloads import Scope

CONTAINERS: Final = 'container!="",container!="POD"'  # cAdvisor's pod-level aggregates


def signal_query(scope: Scope, signal: Signal, step: int) -> str:
    """The PromQL of `signal` for `scope`, each step looking back `step` seconds."""
    sel = ",".join(scope.matchers())
    r = f"[{step}s]"
    match signal:
        case Signal.CPU:
            return f"sum(rate(container_cpu_usage_seconds_total{{{sel},{CONTAINERS}}}{r}))"
        case Signal.MEMORY:
            return (
                f"sum(avg_over_time(container_memory_working_set_bytes{{{sel},{CONTAINERS}}}{r}))"
            )
        case Signal.MEMORY_PEAK:
            return (
                f"max(max_over_time(container_memory_working_set_bytes{{{sel},{CONTAINERS}}}{r}))"
            )
        case Signal.RESTARTS:
            # The growth since the previous step; a pod born during the step counts from its
            # first sample.
            c = f"kube_pod_container_status_restarts_total{{{sel}}}"
            return (
                f"sum((max_over_time({c}{r}) - {c} offset {step}s)"
                f" or (max_over_time({c}{r}) - min_over_time({c}{r})))"
            )
        case Signal.ERROR_RATE:
            return (
                f'sum(rate(http_requests_total{{{sel},code=~"5.."}}{r}))'
                f" / sum(rate(http_requests_total{{{sel}}}{r}))"
            )
        case Signal.P95_LATENCY:
            return (
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(http_request_duration_seconds_bucket{{{sel}}}{r})))"
            )


def usage_queries(scope: Scope, resource: Resource, seconds: int) -> list[str]:
    sel = f"{','.join(scope.matchers())},{CONTAINERS}"
    by = "sum by (workspace, namespace, pod)"
    if resource is Resource.CPU:
        return [f"{by} (rate(container_cpu_usage_seconds_total{{{sel}}}[{seconds}s]))"]
    memory = f"container_memory_working_set_bytes{{{sel}}}[{seconds}s]"
    return [f"{by} (avg_over_time({memory}))", f"{by} (max_over_time({memory}))"]
