"""`bench_agents` at a tiny scale: every part runs, the figures add up (no timing asserts)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hexaops.agents.bench import GOAL_P95_OVERHEAD_MS, GOAL_RATIO, _arrivals, bench_agents


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    said: list[str] = []
    out = bench_agents(
        turns=3,
        rate=5,
        seconds=1,
        burst=6,
        model_seconds=0.05,
        variants=True,
        processes=1,
        progress=said.append,
    )
    out["_said"] = said
    return out


def test_report_is_json_with_goals_and_verdicts(report: dict[str, Any]) -> None:
    json.dumps(report)
    assert report["goals"]["overhead_ratio"] == GOAL_RATIO
    assert report["goals"]["p95_overhead_ms_under_load"] == GOAL_P95_OVERHEAD_MS
    assert set(report["verdicts"]) == {
        "overhead_ratio",
        "p95_overhead_under_load",
        "no_lost_turns_under_load",
        "burst_all_complete",
    }
    assert report["goals_met"] == all(report["verdicts"].values())
    assert any(line.startswith("burst") for line in report["_said"])


def test_per_turn_compares_ours_and_variants_with_the_baseline(report: dict[str, Any]) -> None:
    per_turn = report["per_turn"]
    assert per_turn["baseline"]["turns"] == per_turn["ours"]["turns"] == 3
    names = [v["name"] for v in per_turn["variants"]]
    assert names == [
        "graph",
        "graph+guardrails",
        "graph+checkpointer",
        "graph+guardrails+checkpointer",
    ]
    ratio = per_turn["ours"]["median_ms"] / per_turn["baseline"]["median_ms"]
    assert per_turn["ratio_median"] == pytest.approx(ratio, abs=0.01)
    assert report["verdicts"]["overhead_ratio"] == (per_turn["ratio_median"] <= GOAL_RATIO)
    for row in [per_turn["baseline"], per_turn["ours"], *per_turn["variants"]]:
        assert 0 < row["median_ms"] <= row["p95_ms"]


def test_load_and_burst_account_for_every_turn(report: dict[str, Any]) -> None:
    arrivals = len(_arrivals(5, 1, 7))
    assert report["open_loop"]["baseline"]["turns"] == arrivals
    for part, turns in [("open_loop", arrivals), ("burst", 6)]:
        for name, model_time in [("baseline", 0.1), ("ours", 0.15)]:
            row = report[part][name]
            assert row["processes"] == report["processes"] == 1
            assert row["turns"] == turns
            assert row["completed"] + row["lost"] == turns
            assert row["lost"] == row["errors"] + row["timed_out"] == 0, row["first_errors"]
            assert row["model_seconds_per_turn"] == pytest.approx(model_time)
            assert row["p50_overhead_ms"] <= row["p95_overhead_ms"] <= row["max_overhead_ms"]
    assert report["verdicts"]["burst_all_complete"] is True
    assert report["verdicts"]["no_lost_turns_under_load"] is True


def test_arrivals_are_poisson_at_the_rate_within_the_window() -> None:
    times = _arrivals(100, 60, 7)
    assert times == sorted(times)
    assert times[0] > 0
    assert times[-1] < 60
    assert 5400 < len(times) < 6600  # 6000 expected; σ ≈ 77
    assert _arrivals(100, 60, 7) == times
