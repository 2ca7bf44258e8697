"""The questions the metrics tools ask, independent of where the samples live.

Two backends answer them: Prometheus (PromQL) and the ClickHouse telemetry store (SQL plus the
PromQL semantics reproduced here). Both evaluate at the same instants — a range of `points`
steps ending at the window's end, each step looking back one step over a *closed* range
`[t - step, t]` as the Prometheus 2.x the platform runs does — so the same samples give the same
numbers (within floating-point rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from hexaops.tools.metrics.workloads import Scope

SCRAPE_SECONDS = 15  # the sandbox's tick; a typical scrape interval
MIN_STEP_SECONDS = 60  # at least 4 samples per step for rate()
MAX_POINTS = 24


class Signal(StrEnum):
    CPU = "cpu"  # cores used, summed over the pods
    MEMORY = "memory"  # working-set bytes, summed over the pods (step averages)
    MEMORY_PEAK = "memory_peak"  # the largest working set of any one pod
    RESTARTS = "restarts"  # container restarts during each step
    ERROR_RATE = "error_rate"  # share of HTTP responses with a 5xx code
    P95_LATENCY = "p95_latency"  # seconds, from the request-duration histogram


class Resource(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"


@dataclass(frozen=True)
class Steps:
    """Evaluation instants: `count` steps of `seconds`, the last at `end`."""

    end: datetime
    seconds: int
    count: int

    @classmethod
    def over(cls, start: datetime, end: datetime, points: int = MAX_POINTS) -> Steps:
        span = (end - start).total_seconds()
        seconds = max(MIN_STEP_SECONDS, math.ceil(span / points / SCRAPE_SECONDS) * SCRAPE_SECONDS)
        return cls(end, seconds, max(1, int(span // seconds)))

    @property
    def first(self) -> datetime:
        return self.end - timedelta(seconds=self.seconds * (self.count - 1))

    @property
    def start(self) -> datetime:
        """Where the first step's range begins."""
        return self.first - timedelta(seconds=self.seconds)

    def at(self, k: int) -> datetime:
        return self.first + timedelta(seconds=self.seconds * k)


@dataclass
class Sampled:
    """A signal over time: (instant, value) pairs, and the query that produced them."""

    signal: Signal
    points: list[tuple[datetime, float]]
    query: str


@dataclass
class PodUsage:
    workspace: str
    namespace: str
    pod: str
    average: float
    peak: float | None = None  # memory: the largest sample; CPU: not measured


@dataclass
class Usage:
    resource: Resource
    pods: list[PodUsage]
    queries: list[str] = field(default_factory=list)


@dataclass
class RawResult:
    """A raw PromQL answer: label sets with one value (instant) or values over time (range)."""

    series: list[tuple[dict[str, str], list[tuple[datetime, float]]]]
    query: str


class MetricsBackend(Protocol):
    """What the metrics tools ask of a backend."""

    name: str

    def signal(self, scope: Scope, signal: Signal, steps: Steps) -> Sampled:
        """`signal` for the scope at each of `steps`; steps without data are left out."""
        ...

    def usage(self, scope: Scope, resource: Resource, start: datetime, end: datetime) -> Usage:
        """Average (and, for memory, peak) use of each pod of the scope over [start, end]."""
        ...

    def promql(
        self, query: str, start: datetime | None, end: datetime, step_seconds: int
    ) -> RawResult:
        """A PromQL query (already tenant-scoped by the caller): instant at `end` when `start`
        is None, otherwise over [start, end]."""
        ...

    def close(self) -> None: ...


# -- PromQL semantics the ClickHouse backend reproduces ----------------------------------


def extrapolated_rate(
    first: tuple[float, float],
    last: tuple[float, float],
    samples: int,
    increase: float,
    range_start: float,
    range_end: float,
) -> float | None:
    """Prometheus' `rate()` of a counter over [range_start, range_end] (seconds): the
    reset-corrected increase between the first and last sample, extrapolated towards the
    range's edges when they are within 1.1 sample intervals (never below zero)."""
    if samples < 2:
        return None
    (first_t, first_v), (last_t, _) = first, last
    sampled = last_t - first_t
    if sampled <= 0:
        return None
    average_interval = sampled / (samples - 1)
    to_start = first_t - range_start
    to_end = range_end - last_t
    if increase > 0 and first_v >= 0:
        to_zero = sampled * (first_v / increase)
        to_start = min(to_start, to_zero)
    threshold = average_interval * 1.1
    extrapolate_to = sampled
    extrapolate_to += to_start if to_start < threshold else average_interval / 2
    extrapolate_to += to_end if to_end < threshold else average_interval / 2
    return increase * (extrapolate_to / sampled) / (range_end - range_start)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Prometheus' `histogram_quantile` over (upper bound, cumulative count) buckets; None
    when there were no observations."""
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    counts = [c for _, c in ordered]
    for i in range(1, len(counts)):  # rates of cumulative buckets can disagree a little
        counts[i] = max(counts[i], counts[i - 1])
    total = counts[-1]
    if total <= 0 or math.isnan(total):
        return None
    rank = q * total
    i = next(i for i, c in enumerate(counts) if c >= rank)
    if i == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[i][0]
    lower, below = (0.0, 0.0) if i == 0 else (ordered[i - 1][0], counts[i - 1])
    if i == 0 and upper <= 0:
        return upper
    in_bucket = counts[i] - below
    if in_bucket <= 0:
        return upper
    return lower + (upper - lower) * ((rank - below) / in_bucket)


def finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
