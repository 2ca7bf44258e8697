"""The log benchmark at small scale: its figures are there and its checks hold."""

from __future__ import annotations

import json

from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.logs.bench import bench_logs


def test_bench_logs_small(store: ClickHouseStore) -> None:
    messages: list[str] = []
    figures = bench_logs(store, 50_000, summary_lines=20_000, runs=2, progress=messages.append)
    json.dumps(figures)  # JSON-able as is
    assert figures["rows"] == 50_000
    assert messages[0] == "generating 50,000 log rows"
    assert figures["insert"]["rows_per_s"] > 0
    for name in ("workspace_1h", "platform_24h"):
        top = figures["top_errors"][name]
        assert top["same_answer"], name  # the stored id groups as masking at query time does
        assert top["templates"] > 0
        assert top["median_ms"] > 0
        assert top["baseline_mask_at_query_ms"] > 0
    summary = figures["summary"]
    assert summary["tokens"] <= summary["budget_tokens"] == 2000
    assert summary["root_cause_kept"]
    assert not summary["baseline_tail_root_cause_kept"]
    assert summary["baseline_raw_tokens"] > 100 * summary["tokens"]
