"""What a workload used over a window, read from the ClickHouse telemetry as per-step arrays.

Samples are bucketed on a 15-second grid (the sandbox's tick, a common scrape interval):
counters become per-second rates between consecutive steps (a counter that went down was reset
by a restart and counts from zero), gauges are taken as sampled. One query per shape of series,
the tenant always bound as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant
from hexaops.tools.contract import BackendUnavailable, Evidence

STEP_SECONDS: Final = 15
CFS_PERIODS_PER_SECOND: Final = 10  # the CFS period is 100 ms

POD_METRICS: Final = (
    "container_cpu_usage_seconds_total",
    "container_cpu_cfs_throttled_periods_total",
    "container_memory_working_set_bytes",
    "kube_pod_container_status_restarts_total",
    "http_requests_total",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
)
APP_METRICS: Final = (
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
)
FUNCTION_METRICS: Final = (
    "function_invocations_total",
    "function_cold_starts_total",
    "function_instances",
)

Matrix = NDArray[np.float64]

# Tenant, workload namespace and window: every query starts with it.
_SCOPE: Final = (
    "org = {t_org:String} AND workspace = {t_ws:String} AND namespace = {ns:String}"
    " AND ts >= fromUnixTimestamp64Milli({w_start:Int64}, 'UTC')"
    " AND ts <= fromUnixTimestamp64Milli({w_end:Int64}, 'UTC')"
)


@dataclass
class Grid:
    """Values of several metrics on one time grid: `series[name]` is [rows, steps], NaN where
    a row has no sample at a step."""

    steps: NDArray[np.int64]  # step numbers (unix seconds // STEP_SECONDS)
    rows: list[str]  # pod names, or [""] for one workload-level row
    series: dict[str, Matrix] = field(default_factory=dict)

    def get(self, name: str) -> Matrix:
        found = self.series.get(name)
        if found is None:
            return np.full((len(self.rows), self.steps.size), np.nan)
        return found

    def rate(self, name: str) -> Matrix:
        """Per-second increase of a counter between consecutive steps (NaN for the first
        sample of a row and across gaps)."""
        values = self.get(name)
        out = np.full(values.shape, np.nan)
        if values.shape[1] < 2:
            return out
        prev, cur = values[:, :-1], values[:, 1:]
        gap = np.diff(self.steps).astype(float) * STEP_SECONDS
        increase = np.where(cur >= prev, cur - prev, cur)  # a reset counts from zero
        out[:, 1:] = increase / gap
        return out

    def increase(self, name: str) -> Matrix:
        seconds = np.concatenate([[0.0], np.diff(self.steps).astype(float) * STEP_SECONDS])
        out: Matrix = self.rate(name) * seconds
        return out

    @property
    def empty(self) -> bool:
        return self.steps.size == 0


def _grid(rows: Sequence[tuple[Any, ...]]) -> Grid:
    """(name, row, step, value) tuples → a Grid."""
    steps = np.array(sorted({int(r[2]) for r in rows}), dtype=np.int64)
    names = sorted({str(r[1]) for r in rows})
    grid = Grid(steps, names)
    row_of = {n: i for i, n in enumerate(names)}
    for name, row, step, value in rows:
        matrix = grid.series.get(name)
        if matrix is None:
            matrix = grid.series[name] = np.full((len(names), steps.size), np.nan)
        matrix[row_of[str(row)], int(np.searchsorted(steps, int(step)))] = float(value)
    return grid


@dataclass
class TelemetryReader:
    """Reads one tenant's telemetry with bounded queries (`timeout` seconds each)."""

    store: ClickHouseStore
    tenant: Tenant
    timeout: float
    evidence: list[Evidence] = field(default_factory=list)

    def _query(
        self, sql: str, params: dict[str, Any], start: datetime, end: datetime, objects: list[str]
    ) -> list[tuple[Any, ...]]:
        assert self.tenant.workspace is not None  # scaling reads are about one workload
        params = {
            **params,
            "t_org": self.tenant.org,
            "t_ws": self.tenant.workspace,
            "w_start": int(start.timestamp() * 1000),
            "w_end": int(end.timestamp() * 1000),
            "step": STEP_SECONDS,
        }
        try:
            result = self.store.client.query(
                sql,
                parameters=params,
                settings={"max_execution_time": max(1, round(self.timeout))},
            )
        except Exception as exc:  # the driver raises its own types; all mean "backend down"
            raise BackendUnavailable(
                f"the telemetry store (ClickHouse) did not answer: {exc}; retry, or narrow the "
                "window"
            ) from None
        self.evidence.append(
            Evidence(
                kind="query",
                backend="clickhouse",
                query=" ".join(sql.split()),
                start=start,
                end=end,
                objects=objects,
            )
        )
        return [tuple(r) for r in result.result_rows]

    def _object(self, namespace: str, kind: str, name: str) -> str:
        return f"{self.tenant.org}/{self.tenant.workspace}/{namespace}/{kind}/{name}"

    def pods(self, namespace: str, app: str, start: datetime, end: datetime) -> Grid:
        """Per-pod series of an application's containers; label sets (e.g. `code`) summed."""
        sql = (
            "SELECT name, pod, step, sum(v) FROM ("
            " SELECT name, pod, labels, intDiv(toUnixTimestamp(ts), {step:UInt32}) AS step,"
            " max(value) AS v"
            f" FROM {self.store.database}.metrics"
            f" WHERE {_SCOPE} AND container = {{app:String}}"
            " AND name IN {names:Array(String)} AND pod != ''"
            " GROUP BY name, pod, labels, step)"
            " GROUP BY name, pod, step ORDER BY name, pod, step"
        )
        params = {"ns": namespace, "app": app, "names": list(POD_METRICS)}
        return _grid(
            self._query(sql, params, start, end, [self._object(namespace, "Deployment", app)])
        )

    def workload(self, namespace: str, app: str, start: datetime, end: datetime) -> Grid:
        """Deployment- and HPA-level series of an application (one row)."""
        sql = (
            "SELECT name, '', intDiv(toUnixTimestamp(ts), {step:UInt32}) AS step, max(value)"
            f" FROM {self.store.database}.metrics"
            f" WHERE {_SCOPE} AND pod = '' AND name IN {{names:Array(String)}}"
            " AND (labels['deployment'] = {app:String}"
            " OR labels['horizontalpodautoscaler'] = {app:String})"
            " GROUP BY name, step ORDER BY name, step"
        )
        params = {"ns": namespace, "app": app, "names": list(APP_METRICS)}
        return _grid(
            self._query(sql, params, start, end, [self._object(namespace, "Deployment", app)])
        )

    def function(self, namespace: str, fn: str, start: datetime, end: datetime) -> Grid:
        """A function's series (one row); invocations split by code as
        `function_invocations_total:<code>`."""
        sql = (
            "SELECT if(name = 'function_invocations_total',"
            " concat(name, ':', labels['code']), name) AS metric, '',"
            " intDiv(toUnixTimestamp(ts), {step:UInt32}) AS step, max(value)"
            f" FROM {self.store.database}.metrics"
            f" WHERE {_SCOPE} AND name IN {{names:Array(String)}}"
            " AND labels['function'] = {fn:String}"
            " GROUP BY metric, step ORDER BY metric, step"
        )
        params = {"ns": namespace, "fn": fn, "names": list(FUNCTION_METRICS)}
        return _grid(
            self._query(sql, params, start, end, [self._object(namespace, "Function", fn)])
        )
