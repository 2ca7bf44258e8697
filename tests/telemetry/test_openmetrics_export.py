"""OpenMetrics export → promtool backfill → a real Prometheus answers PromQL over HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_support import api, backfilled_prometheus

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.clickhouse import ALL_TENANTS, ClickHouseStore, Tenant
from hexaops.platform.telemetry.openmetrics import export_openmetrics, families_of
from hexaops.platform.telemetry.records import MetricBatch

# Aligned to a 2 h boundary: 3 h of data holds one complete block, [T0, T0 + 2 h).
T0 = datetime(2026, 11, 1, tzinfo=UTC)
EPOCH_T0 = int(T0.timestamp())
STEP = timedelta(seconds=15)
TICKS = 3 * 60 * 4
BUCKETS = (("0.1", 0.5), ("0.5", 0.9), ("+Inf", 1.0))  # le → share of requests
ODD_PATH = 'a "quoted" \\ path'
WEB = ("acme", "prod", "shop", "web-1", "web")


def _synthetic() -> MetricBatch:
    batch = MetricBatch()
    for i in range(TICKS):
        ts = T0 + i * STEP
        batch.append(ts, "http_requests_total", *WEB, {"code": "200"}, 10.0 * i)
        batch.append(ts, "http_requests_total", *WEB, {"code": "500"}, float(i))
        batch.append(ts, "container_memory_working_set_bytes", *WEB, {"path": ODD_PATH}, 1000.0 + i)
        for le, share in BUCKETS:
            batch.append(
                ts, "http_request_duration_seconds_bucket", *WEB, {"le": le}, 100.0 * i * share
            )
        batch.append(ts, "http_request_duration_seconds_sum", *WEB, {}, 20.0 * i)
        batch.append(ts, "http_request_duration_seconds_count", *WEB, {}, 100.0 * i)
        # Another tenant, and a node-level series without pod/container.
        batch.append(
            ts, "http_requests_total", "globex", "prod", "api", "api-1", "api", {"code": "200"}, 7.0
        )
        batch.append(ts, "node_load1", "acme", "prod", "", "", "", {"node": "k3s-1"}, 0.5)
    # Millisecond timestamps, special values, label names Prometheus can't take as they are.
    odd = {"9x-y": "v", "__name__": "bad", "namespace": "override"}
    batch.append(T0 + timedelta(milliseconds=123), "odd_values", *WEB, odd, math.nan)
    batch.append(T0 + timedelta(seconds=30), "odd_values", *WEB, odd, math.inf)
    return batch


def test_families_follow_the_naming_convention() -> None:
    families = families_of(
        [
            "a_bucket",
            "a_sum",
            "a_count",
            "b_total",
            "c_count",
            "c",
            "d_sum",
        ]
    )
    assert [(f.name, f.type, f.metrics) for f in families] == [
        ("a", "histogram", ("a_bucket", "a_count", "a_sum")),
        ("b", "counter", ("b_total",)),
        ("c", "gauge", ("c",)),
        ("c_count", "gauge", ("c_count",)),
        ("d_sum", "gauge", ("d_sum",)),
    ]
    with pytest.raises(InvalidInput):
        families_of(["x", "x_total"])


def test_export_text(store: ClickHouseStore, tmp_path: Path) -> None:
    store.write_metrics(_synthetic())
    path = tmp_path / "acme.om"
    window = (T0, T0 + timedelta(minutes=1))
    stats = export_openmetrics(store, path, *window, Tenant("acme"))
    lines = path.read_text().splitlines()
    assert lines[-1] == "# EOF"
    assert [line for line in lines if line.startswith("#")] == [
        "# TYPE container_memory_working_set_bytes gauge",
        "# TYPE http_request_duration_seconds histogram",
        "# TYPE http_requests counter",
        "# TYPE node_load1 gauge",
        "# TYPE odd_values gauge",
        "# EOF",
    ]
    assert not any("globex" in line for line in lines)
    assert (
        'http_requests_total{org="acme",workspace="prod",namespace="shop",pod="web-1",'
        f'container="web",code="500"}} 4 {EPOCH_T0 + 60}'
    ) in lines
    assert f'node_load1{{org="acme",workspace="prod",node="k3s-1"}} 0.5 {EPOCH_T0}' in lines
    assert r'path="a \"quoted\" \\ path"' in lines[1]
    odd = 'odd_values{org="acme",workspace="prod",namespace="shop",pod="web-1",container="web",_9x_y="v"}'
    assert lines[-3:-1] == [f"{odd} NaN {EPOCH_T0}.123", f"{odd} +Inf {EPOCH_T0 + 30}"]
    assert (stats.families, stats.samples) == (5, 9 * 5 + 2)
    everyone = export_openmetrics(store, tmp_path / "all.om", *window, ALL_TENANTS)
    assert everyone.samples == 10 * 5 + 2


@pytest.fixture
def prometheus(store: ClickHouseStore, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus serving the store's synthetic data, backfilled with promtool."""
    store.write_metrics(_synthetic())
    series = tmp_path / "series.om"
    export_openmetrics(store, series, T0, T0 + TICKS * STEP, ALL_TENANTS)
    with backfilled_prometheus(series, tmp_path) as url:
        yield url


def _at(minutes: float) -> str:
    return str((T0 + timedelta(minutes=minutes)).timestamp())


def test_prometheus_serves_the_backfill(prometheus: str) -> None:
    # Counter: an instant query at a sample's timestamp returns that sample.
    result = api(prometheus, "query", query='http_requests_total{code="500"}', time=_at(60))
    assert result == [
        {
            "metric": {
                "__name__": "http_requests_total",
                "org": "acme",
                "workspace": "prod",
                "namespace": "shop",
                "pod": "web-1",
                "container": "web",
                "code": "500",
            },
            "value": [(T0 + timedelta(minutes=60)).timestamp(), "240"],
        }
    ]
    # Tenants stay apart as labels.
    globex = api(prometheus, "query", query='http_requests_total{org="globex"}', time=_at(60))
    assert [(r["metric"]["pod"], r["value"][1]) for r in globex] == [("api-1", "7")]
    # rate() over the counter: 10 per 15 s.
    rate = api(
        prometheus,
        "query",
        query='rate(http_requests_total{org="acme",code="200"}[5m])',
        time=_at(90),
    )
    assert float(rate[0]["value"][1]) == pytest.approx(10 / 15)

    # Gauge over a range, with a label value that needed escaping.
    ranged = api(
        prometheus,
        "query_range",
        query="container_memory_working_set_bytes",
        start=_at(30),
        end=_at(60),
        step="900",
    )
    assert len(ranged) == 1
    assert ranged[0]["metric"]["path"] == ODD_PATH
    assert ranged[0]["values"] == [
        [(T0 + timedelta(minutes=m)).timestamp(), str(1000 + m * 4)] for m in (30, 45, 60)
    ]

    # Histogram: buckets keep their le labels; quantiles work on them.
    buckets = api(prometheus, "query", query="http_request_duration_seconds_bucket", time=_at(100))
    assert sorted((r["metric"]["le"], float(r["value"][1])) for r in buckets) == sorted(
        (le, 100.0 * 400 * share) for le, share in BUCKETS
    )
    p50 = api(
        prometheus,
        "query",
        query="histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[5m]))",
        time=_at(100),
    )
    assert float(p50[0]["value"][1]) == pytest.approx(0.1)
    count = api(prometheus, "query", query="http_request_duration_seconds_count", time=_at(100))
    assert count[0]["value"][1] == "40000"
    node = api(prometheus, "query", query="node_load1", time=_at(100))
    odd = api(prometheus, "query", query="odd_values", time=_at(1))
    assert odd[0]["value"][1] == "+Inf"
    assert odd[0]["metric"]["_9x_y"] == "v"
    assert node[0]["metric"] == {
        "__name__": "node_load1",
        "org": "acme",
        "workspace": "prod",
        "node": "k3s-1",
    }
