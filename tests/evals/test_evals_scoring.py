"""Scores (pass@k, pass-all-k, per level and category), the JSON and HTML reports, and the
comparison of two runs that flags regressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hexaops.evals.compare import compare, compare_text
from hexaops.evals.report import build_report, load_report, report_json, write_reports
from hexaops.evals.runner import ScenarioResult, Usage
from hexaops.evals.scoring import pass_at_k, summarize
from hexaops.evals.transcript import ToolCall, Transcript, TurnRecord
from hexaops.platform.errors import InvalidInput


def _result(
    sid: str,
    attempt: int,
    status: str,
    level: str = "root_cause",
    category: str = "memory",
    tokens: int = 100,
) -> ScenarioResult:
    turn = TurnRecord(
        say="what's wrong? <script>",
        by="dev@acme.example",
        answer="OOMKilled",
        tool_calls=[ToolCall(tool="diagnose", status="ok", summary="1 finding")],
    )
    return ScenarioResult(
        id=sid,
        attempt=attempt,
        title=sid,
        level=level,
        category=category,
        difficulty="easy",
        status=status,
        transcript=Transcript(turns=[turn]),
        usage=Usage(input_tokens=tokens, model_calls=2),
        steps=2,
        checks=[{"aspect": "facts", "name": "f", "passed": status == "passed", "detail": ""}],
    )


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    assert pass_at_k(3, 0, 1) == 0.0
    assert pass_at_k(3, 3, 3) == 1.0
    assert pass_at_k(3, 1, 1) == pytest.approx(1 / 3)
    assert pass_at_k(3, 1, 2) == pytest.approx(2 / 3)  # 1 - C(2,2)/C(3,2)
    assert pass_at_k(5, 2, 3) == pytest.approx(1 - 1 / 10)
    with pytest.raises(ValueError, match="need"):
        pass_at_k(2, 3, 1)


def _results() -> list[ScenarioResult]:
    return [
        _result("a", 1, "passed"),
        _result("a", 2, "passed"),
        _result("a", 3, "passed"),
        _result("b", 1, "passed"),
        _result("b", 2, "failed"),
        _result("b", 3, "errored"),
        _result("c", 1, "failed", "detection", "network"),
        _result("c", 2, "failed", "detection", "network"),
        _result("c", 3, "failed", "detection", "network"),
    ]


def test_summary_per_level_category_with_consistency() -> None:
    summary = summarize(_results())
    overall = summary["overall"]
    assert overall["k"] == 3
    assert overall["scenarios"] == 3
    assert overall["errored"] == 1
    assert overall["pass@1"] == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-4)
    assert overall["pass@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert overall["pass_all_k"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["by_level"]["detection"]["pass@1"] == 0.0
    assert summary["by_category"]["memory"]["pass@1"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["task_level_average"] == pytest.approx((2 / 3 + 0) / 2, abs=1e-4)


def _report(results: list[ScenarioResult], model: str = "offline") -> dict[str, object]:
    return build_report(
        results, suites=["evals/core"], model=model, repeat=3, workers=1, duration_s=1.0
    )


def test_reports_are_stable_json_and_self_contained_html(tmp_path: Path) -> None:
    report = _report(_results())
    json_path, html_path = write_reports(report, tmp_path / "out")
    loaded = load_report(json_path)
    assert [r["id"] for r in loaded["scenarios"]] == ["a", "b", "c"]
    assert report_json(loaded) == json_path.read_text()  # keys sorted, round-trips unchanged
    page = html_path.read_text()
    assert "<svg" in page
    assert "pass rate by level" in page
    assert "Cost vs pass rate" in page
    assert "&lt;script&gt;" in page
    assert "<script>" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_compare_flags_scenario_and_level_regressions() -> None:
    before = _report(_results())
    worse = [r if r.id != "a" or r.attempt != 1 else _result("a", 1, "failed") for r in _results()]
    after = _report([r for r in worse if r.id != "c"], model="openai:gpt-5.4")
    result = compare(json.loads(report_json(before)), json.loads(report_json(after)))
    assert result["regressions"] == ["a"]
    changes = {s["id"]: s["change"] for s in result["scenarios"]}
    assert changes == {"a": "regressed", "b": "same", "c": "missing"}  # c never passed
    assert "level root_cause" in result["group_regressions"]
    text = compare_text(result)
    assert "a: regressed (100% → 67%)  REGRESSION" in text
    same = compare(json.loads(report_json(before)), json.loads(report_json(before)))
    assert same["regressions"] == []
    assert compare_text(same).endswith("no regressions")


def test_a_file_that_is_not_a_result_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "x.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(InvalidInput, match="not a hexaops eval result"):
        load_report(other)
    other.write_text("{oops")
    with pytest.raises(InvalidInput, match=r"x\.json:1: not JSON"):
        load_report(other)
