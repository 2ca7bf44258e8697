"""A suite as deepeval test cases: `deepeval test run evals/test_deepeval_core.py`.

Runs every scenario of HEXAOPS_EVAL_SUITE (default evals/core) once on a fresh sandbox with
HEXAOPS_EVAL_MODEL (default offline; see `hexaops eval run --model`), then asserts deepeval's
metrics per scenario: ToolCorrectness, root cause / mitigation / safety (deterministic), and
GEval answer quality when HEXAOPS_EVAL_JUDGE is set (`local`: the deterministic judge).
HEXAOPS_EVAL_WORKERS sets the worker processes (default 2). Not under `tests/`, so the
repository's own pytest run never collects it; plain `pytest evals/` works too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hexaops.evals.metrics import as_test_case, configured_judge, metrics_for
from hexaops.evals.runner import ModelSpec, ScenarioResult, run_scenarios
from hexaops.evals.scenario import Scenario, load_suite

SUITE = Path(os.environ.get("HEXAOPS_EVAL_SUITE", Path(__file__).parent / "core"))
SCENARIOS = load_suite([SUITE])


@pytest.fixture(scope="module")
def results() -> dict[str, ScenarioResult]:
    model = ModelSpec.parse(os.environ.get("HEXAOPS_EVAL_MODEL", "offline"))
    workers = int(os.environ.get("HEXAOPS_EVAL_WORKERS", "2"))
    return {r.id: r for r in run_scenarios(SCENARIOS, model, workers=workers)}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario, results: dict[str, ScenarioResult]) -> None:
    from deepeval import assert_test

    result = results[scenario.id]
    assert result.status != "errored", result.error
    assert_test(
        as_test_case(scenario, result), metrics_for(scenario, configured_judge()), run_async=False
    )
