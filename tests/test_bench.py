"""`hexaops bench platform` runs end to end and reports consistent figures (no timing asserts)."""

from __future__ import annotations

from hexaops.platform.bench import bench_platform
from hexaops.platform.sandbox.bench import bench_sandbox
from hexaops.platform.telemetry.clickhouse import ClickHouseStore


def test_bench_platform_reports_every_action() -> None:
    progress: list[int] = []
    result = bench_platform(count=60, clients=2, progress=progress.append)
    assert result.pipeline.actions == 120
    assert result.baseline.actions == 120
    assert result.clients == 2
    assert progress == sorted(progress)
    assert progress[-1] == 60
    for figures in (result.pipeline, result.baseline):
        assert 0 < figures.p50_ms <= figures.p95_ms
        assert figures.actions_per_second > 0
    assert result.goal_seconds == 0.6
    assert result.goal_met == (result.pipeline.seconds < 0.6)


def test_bench_sandbox_counts_what_it_stored(store: ClickHouseStore) -> None:
    hours: list[float] = []
    result = bench_sandbox(
        workspaces=2, deployments=3, hours=0.5, progress=hours.append, store=store
    )
    assert result.pods == 2 * 3 * 3
    assert hours == [0.5]
    assert result.samples > 0
    counts = store.row_counts()
    # Everything simulated was stored, plus the baseline's own batch.
    assert counts["metrics"] == result.samples + 1_000_000
    assert result.rows_stored == result.samples + result.logs + result.events
    assert result.samples_per_second > 0
    assert result.goal_met == (result.samples_per_second >= 500_000)
