"""`hexaops bench platform` runs end to end and reports consistent figures (no timing asserts)."""

from __future__ import annotations

from hexaops.platform.bench import bench_platform


def test_bench_platform_reports_every_action() -> None:
    progress: list[int] = []
    result = bench_platform(count=12, concurrency=3, progress=progress.append)
    assert result.pipeline.actions == 24
    assert result.baseline.actions == 24
    assert max(progress) == 12
    for figures in (result.pipeline, result.baseline):
        assert 0 < figures.p50_ms <= figures.p95_ms
        assert figures.actions_per_second > 0
    assert result.goal_seconds == 0.12
    assert result.goal_met == (result.pipeline.seconds < 0.12)
