"""`hexaops bench platform` runs end to end and reports consistent figures (no timing asserts)."""

from __future__ import annotations

from hexaops.platform.bench import bench_platform


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
