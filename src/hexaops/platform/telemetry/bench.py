"""Throughput of the ClickHouse telemetry store: insert a MetricBatch, read a metric back,
export OpenMetrics.

    python -m hexaops.platform.telemetry.bench [--samples 1000000] [--url URL]

Without --url it runs on an embedded chDB in a temporary directory. Batch construction is not
timed: the figures are what the store adds on top of the simulation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hexaops.platform.telemetry.clickhouse import ALL_TENANTS, ClickHouseStore, Tenant
from hexaops.platform.telemetry.openmetrics import export_openmetrics
from hexaops.platform.telemetry.records import MetricBatch

_NAMES = (
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "http_requests_total",
    "http_request_duration_seconds_bucket",
)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BenchResult:
    samples: int
    insert_s: float
    query_points: int
    query_s: float
    export_samples: int
    export_s: float

    def lines(self) -> list[str]:
        return [
            f"insert: {self.samples:,} samples in {self.insert_s:.2f} s"
            f" = {self.samples / self.insert_s:,.0f} samples/s",
            f"query_metric: {self.query_points:,} points in {self.query_s:.2f} s",
            f"export_openmetrics: {self.export_samples:,} samples in {self.export_s:.2f} s"
            f" = {self.export_samples / self.export_s:,.0f} samples/s",
        ]


def synthetic_batch(samples: int, series: int = 2000, start: datetime = T0) -> MetricBatch:
    """`samples` samples over `series` series (one org, 5 workspaces), 15 s apart."""
    shapes = [
        (
            _NAMES[i % 4],
            f"ws{i % 5}",
            f"ns{i % 20}",
            f"pod-{i}",
            {"le": "0.25"} if i % 4 == 3 else ({"code": "200"} if i % 4 == 2 else {}),
        )
        for i in range(series)
    ]
    batch = MetricBatch()
    for k in range(-(-samples // series)):
        ts = start + timedelta(seconds=15 * k)
        for name, ws, ns, pod, labels in shapes:
            if len(batch) == samples:
                return batch
            batch.append(ts, name, "acme", ws, ns, pod, "app", labels, float(k))
    return batch


def run(store: ClickHouseStore, samples: int, workdir: Path) -> BenchResult:
    store.write_metrics(synthetic_batch(10, series=10, start=T0 - timedelta(days=1)))  # warm-up
    batch = synthetic_batch(samples)
    end = batch.ts[-1]
    started = time.perf_counter()
    store.write_metrics(batch)
    insert_s = time.perf_counter() - started

    started = time.perf_counter()
    series = store.query_metric(Tenant("acme", "ws0"), _NAMES[0], T0, end, limit=1_000_000)
    query_s = time.perf_counter() - started

    started = time.perf_counter()
    stats = export_openmetrics(store, workdir / "bench.om", T0, end, ALL_TENANTS)
    export_s = time.perf_counter() - started
    return BenchResult(
        samples=len(batch),
        insert_s=insert_s,
        query_points=sum(len(s.points) for s in series),
        query_s=query_s,
        export_samples=stats.samples,
        export_s=export_s,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="ClickHouse URL (default: embedded chDB)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        store = ClickHouseStore.connect(args.url, home=workdir, database="hexaops_bench")
        try:
            result = run(store, args.samples, workdir)
        finally:
            store.drop()
            store.close()
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
