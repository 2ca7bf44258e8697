"""The sandbox's own telemetry, exported as OpenMetrics, backfills a real Prometheus and shows
an injected fault the way an SRE would look for it with PromQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_support import api, backfilled_prometheus

from hexaops.platform.core import Platform
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ALL_TENANTS, ClickHouseStore
from hexaops.platform.telemetry.openmetrics import export_openmetrics


def test_injected_oom_is_visible_in_prometheus(
    platform: Platform, store: ClickHouseStore, tmp_path: Path
) -> None:
    simulation = Simulation(platform.engine)
    start = simulation.now()  # the simulation's epoch sits on a 2 h block boundary
    simulation.inject("oom_memory_leak", "acme", "acme-staging", "checkout")
    report = simulation.advance(180, store)
    assert report.samples > 0

    series = tmp_path / "sandbox.om"
    stats = export_openmetrics(store, series, start, start + timedelta(hours=3), ALL_TENANTS)
    assert stats.samples == report.samples

    at = str((start + timedelta(minutes=110)).timestamp())
    staging = 'org="acme",workspace="acme-staging",namespace="shop"'
    with backfilled_prometheus(series, tmp_path) as prometheus:
        restarts = api(
            prometheus,
            "query",
            query=f"sum by (container) (increase(kube_pod_container_status_restarts_total{{{staging}}}[90m]))",
            time=at,
        )
        by_container = {r["metric"]["container"]: float(r["value"][1]) for r in restarts}
        assert by_container["checkout"] > 0, by_container  # the leaking app keeps getting OOMKilled
        assert by_container["catalog"] == 0  # its healthy neighbour does not

        memory = api(
            prometheus,
            "query",
            query=f'max(container_memory_working_set_bytes{{{staging},container="checkout"}})',
            time=at,
        )
        assert float(memory[0]["value"][1]) > 0

        # Tenants stay apart as labels: globex's series are there, under its own org.
        globex = api(
            prometheus,
            "query",
            query='count(container_memory_working_set_bytes{org="globex"})',
            time=at,
        )
        assert float(globex[0]["value"][1]) > 0
