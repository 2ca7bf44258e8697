"""The ClickHouse backend: the metrics questions over the telemetry store, with PromQL's
semantics.

ClickHouse groups the samples of each series into the steps' closed ranges (a sample on a step
boundary belongs to both neighbours, as in Prometheus 2.x) and returns per series and step the
first/last sample, min/max/avg and the reset-corrected increase; this module then applies
`rate()`'s extrapolation, the sums, and `histogram_quantile` exactly as PromQL does. The tenant
predicate and every value from a request are bound as query parameters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.contract import BackendUnavailable
from hexaops.tools.metrics.backend import (
    PodUsage,
    RawResult,
    Resource,
    Sampled,
    Signal,
    Steps,
    Usage,
    extrapolated_rate,
    histogram_quantile,
)
from hexaops.tools.metrics.queries import signal_query, usage_queries
from hexaops.tools.metrics.workloads import Scope, pod_pattern

_MS_PER_S: Final = 1000
CPU: Final = "container_cpu_usage_seconds_total"
MEMORY: Final = "container_memory_working_set_bytes"
RESTARTS: Final = "kube_pod_container_status_restarts_total"
REQUESTS: Final = "http_requests_total"
LATENCY: Final = "http_request_duration_seconds_bucket"
_CONTAINER_SERIES: Final = (CPU, MEMORY)
# A series' values within a step, in time order (for the counter's reset-corrected increase).
_VALUES: Final = "arrayMap(x -> x.2, arraySort(x -> x.1, groupArray((ts_ms, value))))"

NO_PROMQL: Final = (
    "raw PromQL needs a Prometheus: set HEXAOPS_PROMETHEUS_URL. Without one, ask "
    "metrics_workload, metrics_top_consumers or metrics_compare, or query the telemetry "
    "tables with analytics_sql"
)


@dataclass(frozen=True)
class Cell:
    """One series within one step's range."""

    series: tuple[Any, ...]  # workspace, namespace, pod, container, labels
    labels: dict[str, str]
    k: int
    samples: int
    first: tuple[float, float]  # (seconds, value)
    last: tuple[float, float]
    low: float
    high: float
    mean: float
    increase: float


class ClickHouseBackend:
    name = "clickhouse"

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store

    def close(self) -> None:
        """The store belongs to the tool context; nothing to close here."""

    # -- SQL -------------------------------------------------------------------------------

    def _cells(
        self, scope: Scope, name: str, steps: Steps, *, previous: bool = False
    ) -> list[Cell]:
        """Per-series statistics of metric `name` in each step's range; with `previous`, also
        the step before the first (k = -1)."""
        step_ms = steps.seconds * _MS_PER_S
        origin = steps.start - timedelta(seconds=steps.seconds)  # k' = k + 1 keeps k' >= 0
        params: dict[str, Any] = {
            "org": scope.org,
            "workspaces": list(scope.workspaces),
            "name": name,
            "origin": _ms(origin),
            "end": _ms(steps.end),
            "step": step_ms,
            "first_k": 0 if previous else 1,
            "count": steps.count,
        }
        where = [
            "org = {org:String}",
            "workspace IN {workspaces:Array(String)}",
            "name = {name:String}",
            "ts >= fromUnixTimestamp64Milli({origin:Int64}, 'UTC')",
            "ts <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')",
        ]
        if scope.namespace is not None:
            params["namespace"] = scope.namespace
            where.append("namespace = {namespace:String}")
        if scope.workload is not None:
            params["pods"] = f"^(?:{pod_pattern(scope.workload)})$"
            where.append("match(pod, {pods:String})")
        if name in _CONTAINER_SERIES:
            where.append("container NOT IN ('', 'POD')")
        sql = f"""
            SELECT workspace, namespace, pod, container, labels, k - 1 AS step,
                   count() AS n, min(ts_ms), max(ts_ms),
                   argMin(value, ts_ms), argMax(value, ts_ms),
                   min(value), max(value), avg(value),
                   arraySum(arrayMap((p, c) -> if(c >= p, c - p, c),  -- a drop is a reset
                                     arrayPopBack({_VALUES}), arrayPopFront({_VALUES})))
            FROM (
                SELECT workspace, namespace, pod, container, labels, value,
                       toUnixTimestamp64Milli(ts) - {{origin:Int64}} AS d,
                       toUnixTimestamp64Milli(ts) AS ts_ms,
                       arrayJoin(range(
                           toUInt64(greatest(intDiv(d + {{step:Int64}} - 1, {{step:Int64}}) - 1, 0)),
                           toUInt64(intDiv(d, {{step:Int64}}) + 1))) AS k
                FROM {self.store.database}.metrics
                WHERE {" AND ".join(where)}
            )
            WHERE k >= {{first_k:Int64}} AND k <= {{count:Int64}}
            GROUP BY workspace, namespace, pod, container, labels, k
            ORDER BY workspace, namespace, pod, container, k
        """
        try:
            rows = self.store.client.query(sql, parameters=params).result_rows
        except Exception as exc:  # the driver's errors are many; all mean "store unusable"
            raise BackendUnavailable(
                f"the telemetry store (ClickHouse) failed: {str(exc)[:200]}"
            ) from None
        cells = [
            Cell(
                series=(ws, ns, pod, ctr, tuple(sorted(labels.items()))),
                labels=dict(labels),
                k=int(k),
                samples=int(n),
                first=(t0 / _MS_PER_S, float(v0)),
                last=(t1 / _MS_PER_S, float(v1)),
                low=float(lo),
                high=float(hi),
                mean=float(mean),
                increase=float(inc),
            )
            for ws, ns, pod, ctr, labels, k, n, t0, t1, v0, v1, lo, hi, mean, inc in rows
        ]
        return cells

    def _cite(self, promql: str) -> str:
        return f"{promql}  -- computed with SQL over {self.store.database}.metrics"

    # -- questions -------------------------------------------------------------------------

    def _rate(self, cell: Cell, steps: Steps) -> float | None:
        end = steps.at(cell.k).timestamp()
        return extrapolated_rate(
            cell.first, cell.last, cell.samples, cell.increase, end - steps.seconds, end
        )

    def signal(self, scope: Scope, signal: Signal, steps: Steps) -> Sampled:
        values: dict[int, float] = {}
        match signal:
            case Signal.CPU:
                cells = self._cells(scope, CPU, steps)
                values = _sum_by_step((c.k, self._rate(c, steps)) for c in cells)
            case Signal.MEMORY:
                cells = self._cells(scope, MEMORY, steps)
                values = _sum_by_step((c.k, c.mean) for c in cells)
            case Signal.MEMORY_PEAK:
                cells = self._cells(scope, MEMORY, steps)
                for c in cells:
                    values[c.k] = max(values.get(c.k, -math.inf), c.high)
            case Signal.RESTARTS:
                cells = self._cells(scope, RESTARTS, steps, previous=True)
                values = _sum_by_step(_restarts(cells))
            case Signal.ERROR_RATE:
                cells = self._cells(scope, REQUESTS, steps)
                errors = _sum_by_step(
                    (c.k, self._rate(c, steps)) for c in cells if _is_5xx(c.labels)
                )
                total = _sum_by_step((c.k, self._rate(c, steps)) for c in cells)
                values = {
                    k: errors[k] / total[k]
                    for k in errors
                    if total.get(k, 0) > 0 and math.isfinite(errors[k])
                }
            case Signal.P95_LATENCY:
                cells = self._cells(scope, LATENCY, steps)
                buckets: dict[int, dict[float, float]] = defaultdict(dict)
                for c in cells:
                    rate = self._rate(c, steps)
                    if rate is not None and "le" in c.labels:
                        le = float(c.labels["le"])
                        buckets[c.k][le] = buckets[c.k].get(le, 0.0) + rate
                for k, by_le in buckets.items():
                    quantile = histogram_quantile(0.95, list(by_le.items()))
                    if quantile is not None:
                        values[k] = quantile
        points = [(steps.at(k), v) for k, v in sorted(values.items()) if 0 <= k < steps.count]
        return Sampled(signal, points, self._cite(signal_query(scope, signal, steps.seconds)))

    def usage(self, scope: Scope, resource: Resource, start: datetime, end: datetime) -> Usage:
        whole = Steps(end, round((end - start).total_seconds()), 1)
        name = CPU if resource is Resource.CPU else MEMORY
        cells = self._cells(scope, name, whole)
        pods: dict[tuple[str, str, str], PodUsage] = {}
        for c in cells:
            ws, ns, pod = c.series[:3]
            value = self._rate(c, whole) if resource is Resource.CPU else c.mean
            if value is None:
                continue
            found = pods.setdefault((ws, ns, pod), PodUsage(ws, ns, pod, 0.0))
            found.average += value
            if resource is Resource.MEMORY:
                found.peak = (found.peak or 0.0) + c.high
        queries = usage_queries(scope, resource, whole.seconds)
        return Usage(resource, list(pods.values()), [self._cite(q) for q in queries])

    def promql(
        self, query: str, start: datetime | None, end: datetime, step_seconds: int
    ) -> RawResult:
        raise BackendUnavailable(NO_PROMQL)


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise InvalidInput("telemetry times need a timezone (UTC)")
    return round(value.timestamp() * _MS_PER_S)


def _is_5xx(labels: dict[str, str]) -> bool:
    code = labels.get("code", "")
    return len(code) == 3 and code.startswith("5")


def _sum_by_step(values: Iterable[tuple[int, float | None]]) -> dict[int, float]:
    sums: dict[int, float] = {}
    for k, value in values:
        if value is not None:
            sums[k] = sums.get(k, 0.0) + value
    return sums


def _restarts(cells: list[Cell]) -> Iterable[tuple[int, float]]:
    """Per series and step: growth since the previous step's last sample, or within the step
    for a series that had no sample in the previous one (as the PromQL `… or …` does)."""
    last_high: dict[tuple[Any, ...], tuple[int, float]] = {}
    for c in sorted(cells, key=lambda c: (c.series, c.k)):
        previous = last_high.get(c.series)
        if c.k >= 0:
            if previous is not None and previous[0] == c.k - 1:
                yield c.k, c.high - previous[1]
            else:
                yield c.k, c.high - c.low
        last_high[c.series] = (c.k, c.high)
