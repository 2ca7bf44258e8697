"""The `hexaops bench` commands run end to end and report consistent figures (no timing
asserts)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def _hexaops(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The installed command, in its own process (the benchmarks open a scratch chDB or
    PostgreSQL of their own)."""
    script = shutil.which("hexaops", path=os.path.dirname(sys.executable))
    assert script is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_")}
    return subprocess.run(
        [script, *args],
        env=env | {"HEXAOPS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bench_tools_prints_every_figure_against_its_baseline(tmp_path: Path) -> None:
    run = _hexaops(
        tmp_path, "bench", "tools", "--rows", "50000", "--lines", "5000", "--pods", "40", "--json"
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    logs = figures["logs"]
    assert logs["rows"] == 50_000
    for name in ("workspace_1h", "platform_24h"):
        top = logs["top_errors"][name]
        assert top["same_answer"] is True
        assert top["median_ms"] > 0
        assert top["baseline_mask_at_query_ms"] > 0
    assert logs["summary"]["root_cause_kept"] is True
    assert logs["summary"]["tokens"] <= logs["summary"]["budget_tokens"]
    analyzers = figures["analyzers"]
    assert analyzers["pods"] == 40
    assert analyzers["reads"] < analyzers["baseline"]["reads"]


def test_bench_knowledge_measures_recall_against_exact_search(tmp_path: Path) -> None:
    run = _hexaops(
        tmp_path,
        "bench",
        "knowledge",
        "--vectors",
        "2000",
        "--ef-search",
        "10,40",
        "--no-quality",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    speed = json.loads(run.stdout)["speed"]
    assert speed["vectors"] == 2000
    assert [(r["ef_search"], r["filtered"]) for r in speed["runs"]] == [
        (10, False),
        (10, True),
        (40, False),
        (40, True),
    ]
    assert all(0 <= r["recall"] <= 1 for r in speed["runs"])
    bad = _hexaops(tmp_path, "bench", "knowledge", "--ef-search", "wide", timeout=60)
    assert bad.returncode == 2
    assert "--ef-search takes comma-separated integers" in bad.stderr
