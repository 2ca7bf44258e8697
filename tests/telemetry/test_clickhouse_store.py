"""The ClickHouse store on embedded chDB: round trips, filters, and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant
from hexaops.platform.telemetry.records import EventRecord, LogRecord, MetricBatch

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = (T0, T0 + timedelta(hours=1))


def _batch() -> MetricBatch:
    batch = MetricBatch()
    for i in range(10):
        ts = T0 + timedelta(seconds=15 * i)
        for org, ws in (("acme", "prod"), ("acme", "dev"), ("globex", "prod")):
            batch.append(
                ts,
                "http_requests_total",
                org,
                ws,
                "shop",
                "web-1",
                "web",
                {"code": "200"},
                100.0 + i,
            )
            batch.append(
                ts,
                "http_requests_total",
                org,
                ws,
                "shop",
                "web-1",
                "web",
                {"code": "500"},
                float(i),
            )
            batch.append(
                ts,
                "container_memory_working_set_bytes",
                org,
                ws,
                "shop",
                "web-1",
                "web",
                {},
                2.0**20 * (i + 1),
            )
    return batch


def test_metric_round_trip(store: ClickHouseStore) -> None:
    store.write_metrics(_batch())
    series = store.query_metric(Tenant("acme", "prod"), "http_requests_total", *HOUR)
    assert [s.labels for s in series] == [{"code": "200"}, {"code": "500"}]
    first = series[0]
    assert (first.org, first.workspace, first.namespace, first.pod, first.container) == (
        "acme",
        "prod",
        "shop",
        "web-1",
        "web",
    )
    assert first.points[0] == (T0, 100.0)
    assert first.points[-1] == (T0 + timedelta(seconds=135), 109.0)
    assert [ts for ts, _ in first.points] == sorted(ts for ts, _ in first.points)
    assert first.label_set() == {
        "org": "acme",
        "workspace": "prod",
        "namespace": "shop",
        "pod": "web-1",
        "container": "web",
        "code": "200",
    }


def test_metric_filters(store: ClickHouseStore) -> None:
    store.write_metrics(_batch())
    acme = Tenant("acme")
    errors = store.query_metric(acme, "http_requests_total", *HOUR, labels={"code": "500"})
    assert sorted(s.workspace for s in errors) == ["dev", "prod"]
    assert all(s.labels == {"code": "500"} for s in errors)
    # A label the series lacks matches "" as in PromQL.
    memory = store.query_metric(
        acme, "container_memory_working_set_bytes", *HOUR, labels={"code": ""}
    )
    assert len(memory) == 2
    window = store.query_metric(
        acme,
        "http_requests_total",
        T0 + timedelta(seconds=30),
        T0 + timedelta(seconds=60),
        pod="web-1",
        container="web",
    )
    assert all([v for _, v in s.points] in ([102.0, 103.0, 104.0], [2.0, 3.0, 4.0]) for s in window)
    assert store.query_metric(acme, "http_requests_total", *HOUR, namespace="other") == []
    limited = store.query_metric(acme, "http_requests_total", *HOUR, limit=5)
    assert sum(len(s.points) for s in limited) == 5
    assert store.metric_names(acme, *HOUR) == [
        "container_memory_working_set_bytes",
        "http_requests_total",
    ]


def test_logs_and_events_round_trip(store: ClickHouseStore) -> None:
    logs = [
        LogRecord(
            T0 + timedelta(seconds=i),
            org,
            "prod",
            "shop",
            "web-1",
            "web",
            "ERROR" if i % 3 == 0 else "INFO",
            f"request {i} of {org}",
            {"trace_id": str(i)},
        )
        for i in range(9)
        for org in ("acme", "globex")
    ]
    store.write_logs(logs)
    acme = Tenant("acme", "prod")
    got = store.query_logs(acme, *HOUR)
    assert got == [r for r in logs if r.org == "acme"]
    errors = store.query_logs(acme, *HOUR, levels=["ERROR", "FATAL"])
    assert [r.message for r in errors] == [
        "request 0 of acme",
        "request 3 of acme",
        "request 6 of acme",
    ]
    assert [r.message for r in store.query_logs(acme, *HOUR, limit=2)] == [
        "request 7 of acme",
        "request 8 of acme",
    ]
    assert [r.message for r in store.query_logs(acme, *HOUR, contains="REQUEST 4")] == [
        "request 4 of acme",
    ]

    events = [
        EventRecord(
            T0 + timedelta(minutes=5),
            "acme",
            "prod",
            "shop",
            "Pod",
            "web-1",
            "OOMKilling",
            "Warning",
            "Memory cgroup out of memory",
            3,
            T0 + timedelta(minutes=1),
        ),
        EventRecord(
            T0 + timedelta(minutes=6),
            "acme",
            "prod",
            "shop",
            "Deployment",
            "web",
            "ScalingReplicaSet",
            "Normal",
            "Scaled up to 3",
        ),
        EventRecord(
            T0 + timedelta(minutes=7),
            "globex",
            "prod",
            "shop",
            "Pod",
            "api-1",
            "BackOff",
            "Warning",
            "Back-off restarting failed container",
        ),
    ]
    store.write_events(events)
    got_events = store.query_events(acme, *HOUR)
    assert got_events[0] == events[0]
    # first_ts None is stored as ts.
    assert got_events[1] == EventRecord(**{**vars(events[1]), "first_ts": events[1].ts})
    assert [e.reason for e in store.query_events(acme, *HOUR, type="Warning")] == ["OOMKilling"]
    assert store.query_events(acme, *HOUR, kind="Pod", name="api-1") == []


@pytest.mark.parametrize(
    "labels",
    [
        {"code": "200' OR 1=1 --"},
        {"code') OR org != 'acme' OR ('": "x"},
        {"x": "y} OR 1 --"},
    ],
)
def test_label_filters_cannot_escape_the_tenant(
    store: ClickHouseStore, labels: dict[str, str]
) -> None:
    store.write_metrics(_batch())
    assert store.query_metric(Tenant("acme"), "http_requests_total", *HOUR, labels=labels) == []


def test_tenant_filter_cannot_be_bypassed(store: ClickHouseStore) -> None:
    store.write_metrics(_batch())
    store.write_logs([LogRecord(T0, "globex", "prod", "shop", "api-1", "api", "ERROR", "boom")])
    store.write_events(
        [EventRecord(T0, "globex", "prod", "shop", "Pod", "api-1", "BackOff", "Warning", "boom")]
    )
    acme = Tenant("acme")
    # Other filters can't widen the tenant: naming globex's objects finds nothing.
    series = store.query_metric(acme, "http_requests_total", *HOUR)
    assert {s.org for s in series} == {"acme"}
    assert store.query_logs(acme, *HOUR, pod="api-1") == []
    assert store.query_events(acme, *HOUR, name="api-1") == []
    # A workspace narrows within the org only.
    assert {
        s.workspace for s in store.query_metric(Tenant("acme", "dev"), "http_requests_total", *HOUR)
    } == {"dev"}
    assert store.query_metric(Tenant("acme", "nope"), "http_requests_total", *HOUR) == []
    # No tenant, or an empty one, is refused before any query runs.
    bad: Any
    for bad in (None, "acme", ("acme", None)):
        with pytest.raises(InvalidInput):
            store.query_metric(bad, "http_requests_total", *HOUR)
        with pytest.raises(InvalidInput):
            store.query_logs(bad, *HOUR)
        with pytest.raises(InvalidInput):
            store.query_events(bad, *HOUR)
    with pytest.raises(InvalidInput):
        Tenant("")
    with pytest.raises(InvalidInput):
        Tenant("acme", "")


def test_invalid_inputs(store: ClickHouseStore) -> None:
    batch = _batch()
    batch.value.pop()
    with pytest.raises(InvalidInput):
        store.write_metrics(batch)
    with pytest.raises(InvalidInput):  # naive timestamps are ambiguous
        store.query_logs(Tenant("acme"), datetime(2026, 11, 1), datetime(2026, 11, 2))
    with pytest.raises(InvalidInput):
        store.query_logs(Tenant("acme"), HOUR[1], HOUR[0])
    with pytest.raises(InvalidInput):
        ClickHouseStore(store.client, database="x; DROP DATABASE y")
    store.write_metrics(MetricBatch())  # empty batches are a no-op


def test_stores_share_one_engine_but_not_rows(store: ClickHouseStore) -> None:
    store.write_metrics(_batch())
    other = ClickHouseStore(store.client, database=f"{store.database}_other")
    try:
        assert other.query_metric(Tenant("acme"), "http_requests_total", *HOUR) == []
    finally:
        other.drop()


def _log(ts: datetime, org: str, ws: str, level: str, message: str) -> LogRecord:
    return LogRecord(ts, org, ws, "shop", "web-1", "web", level, message, {})


def test_log_templates_group_by_the_template_id(store: ClickHouseStore) -> None:
    store.write_logs(
        [
            _log(T0 + timedelta(seconds=i), "acme", "prod", "ERROR", f"timeout after {i}ms")
            for i in range(1, 6)
        ]
        + [_log(T0, "acme", "dev", "ERROR", "timeout after 9ms")]
        + [_log(T0, "acme", "prod", "INFO", "user 42 logged in")]
        + [_log(T0, "globex", "prod", "ERROR", "timeout after 3ms")]
    )
    groups = store.log_templates(Tenant("acme"), *HOUR, levels=["ERROR"])
    [timeouts] = groups
    assert timeouts.count == 6
    assert sorted(timeouts.workspaces) == ["dev", "prod"]
    assert (timeouts.first, timeouts.last) == (T0, T0 + timedelta(seconds=5))
    assert len(timeouts.examples) == 3
    narrowed = store.log_templates(Tenant("acme"), *HOUR, workspaces=["dev"])
    assert [g.count for g in narrowed] == [1]
    assert [g.count for g in store.log_templates(Tenant("globex"), *HOUR)] == [1]


def test_an_old_logs_table_gains_the_template_id_in_place(
    chdb_client: Any, database_name: str
) -> None:
    db = database_name
    chdb_client.command(f"CREATE DATABASE {db}")
    chdb_client.command(
        f"CREATE TABLE {db}.logs (ts DateTime64(3, 'UTC'), org LowCardinality(String),"
        " workspace LowCardinality(String), namespace LowCardinality(String), pod String,"
        " container LowCardinality(String), level LowCardinality(String), message String,"
        " fields Map(LowCardinality(String), String))"
        " ENGINE = MergeTree PARTITION BY toDate(ts) ORDER BY (org, workspace, namespace, ts)"
    )
    chdb_client.command(
        f"INSERT INTO {db}.logs (ts, org, workspace, level, message) VALUES"
        " ('2026-11-01 00:00:00', 'acme', 'prod', 'ERROR', 'timeout after 5ms'),"
        " ('2026-11-01 00:00:01', 'acme', 'prod', 'ERROR', 'timeout after 7ms')"
    )
    store = ClickHouseStore(chdb_client, database=db)  # upgrades the schema
    try:
        store.write_logs(
            [_log(T0 + timedelta(seconds=2), "acme", "prod", "ERROR", "timeout after 9ms")]
        )
        [group] = store.log_templates(Tenant("acme"), *HOUR)
        assert group.count == 3
        ClickHouseStore(chdb_client, database=db)  # idempotent
    finally:
        store.drop()
