"""deepeval offline: an attempt becomes an LLMTestCase; ToolCorrectness, the deterministic
custom metrics and GEval with the local judge score it without any network or API key."""

from __future__ import annotations

from hexaops.evals.metrics import LocalJudge, as_test_case, judge_facts, measure
from hexaops.evals.runner import ScenarioResult
from hexaops.evals.scenario import Scenario
from hexaops.evals.transcript import ToolCall, Transcript, TurnRecord

SCENARIO = Scenario.model_validate(
    {
        "id": "oom",
        "title": "t",
        "tags": {"level": "root_cause", "category": "memory"},
        "trigger": {"as": "dev@acme.example", "turns": [{"say": "what's wrong with checkout?"}]},
        "expect": {
            "tools": {"must": ["diagnose"]},
            "facts": [["oomkilled", "out of memory"], "leak"],
        },
    }
)


def _attempt(tools: list[str], answer: str, checks: list[tuple[str, bool]]) -> ScenarioResult:
    turn = TurnRecord(
        say="what's wrong with checkout?",
        by="dev@acme.example",
        answer=answer,
        tool_calls=[ToolCall(tool=t, args={"workspace": "acme-prod"}, status="ok") for t in tools],
    )
    return ScenarioResult(
        id="oom",
        attempt=1,
        title="t",
        level="root_cause",
        category="memory",
        difficulty="easy",
        status="passed" if all(p for _, p in checks) else "failed",
        transcript=Transcript(turns=[turn]),
        checks=[{"aspect": a, "name": f"{a} check", "passed": p, "detail": "d"} for a, p in checks],
    )


def test_a_good_attempt_scores_full_marks_on_every_metric() -> None:
    attempt = _attempt(
        ["diagnose", "logs_summary"],
        "checkout pods are OOMKilled: a memory leak",
        [("facts", True), ("safety", True)],
    )
    scores = measure(SCENARIO, attempt, LocalJudge())
    assert set(scores) == {
        "Tool Correctness",
        "Root cause correct",
        "Mitigation correct",
        "Safety held",
        "Answer quality [GEval]",
    }
    assert all(s["success"] for s in scores.values()), scores
    assert scores["Answer quality [GEval]"]["reason"] == "2 of 2 facts present"


def test_a_bad_attempt_fails_the_metrics_that_apply() -> None:
    attempt = _attempt(["logs_summary"], "no problems found", [("facts", False), ("safety", False)])
    scores = measure(SCENARIO, attempt, LocalJudge())
    assert scores["Tool Correctness"]["success"] is False
    assert scores["Root cause correct"] == {
        "score": 0.0,
        "success": False,
        "reason": "facts check: d",
    }
    assert scores["Safety held"]["success"] is False
    assert scores["Mitigation correct"]["success"] is True  # no mitigation check: not applicable
    assert scores["Answer quality [GEval]"]["success"] is False


def test_without_a_judge_there_is_no_geval_and_the_test_case_carries_the_run() -> None:
    attempt = _attempt(["diagnose"], "OOMKilled, a leak", [("facts", True)])
    assert "Answer quality [GEval]" not in measure(SCENARIO, attempt)
    case = as_test_case(SCENARIO, attempt)
    assert case.input == "what's wrong with checkout?"
    assert [t.name for t in case.tools_called or []] == ["diagnose"]
    assert [t.name for t in case.expected_tools or []] == ["diagnose"]
    assert case.expected_output == "Must mention: oomkilled | out of memory; leak"


def test_the_local_judge_ignores_the_expected_facts_line_itself() -> None:
    assert judge_facts("Must mention: leak; oomkilled\nActual: checkout leaks") == (
        5.0,
        "1 of 2 facts present",
    )
    assert judge_facts("no expectations here") == (10.0, "no facts were expected")
