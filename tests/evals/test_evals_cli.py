"""`hexaops eval`: bad input gets one clear line and exit code 1 (files and lines named),
usage errors exit 2, and `compare` exits 1 when the candidate regressed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hexaops.evals.report import build_report, write_reports
from hexaops.evals.runner import ScenarioResult
from hexaops.ui.cli import app

EVALS = Path(__file__).parents[2] / "evals"


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_counts_the_shipped_suites() -> None:
    code, out, _ = _invoke("eval", "validate", "-s", str(EVALS / "safety"))
    assert code == 0
    assert out.strip().endswith("scenario(s) valid")


def test_invalid_scenarios_and_unknown_models_are_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\ntitle: t\ntags: {level: detection, category: c}\n"
        "faults: [{kind: meltdown, target: checkout}]\n"
        "trigger: {as: dev@acme.example, turns: [{say: hi}]}\nexpect: {}\n"
    )
    code, _, err = _invoke("eval", "validate", "-s", str(bad))
    assert code == 1
    assert err.startswith(f"error: {bad}:4: faults[0].kind: unknown fault kind 'meltdown'")
    code, _, err = _invoke("eval", "run", "-s", str(bad), "--model", "gpt-9")
    assert code == 1
    assert "unknown model 'gpt-9': use offline, anthropic[:MODEL]" in err
    code, _, _ = _invoke("eval", "run", "-s", str(bad), "--repeat", "0")
    assert code == 2


def _results(tmp_path: Path, name: str, status: str) -> Path:
    result = ScenarioResult(
        id="oom",
        attempt=1,
        title="t",
        level="root_cause",
        category="memory",
        difficulty="easy",
        status=status,
    )
    report = build_report(
        [result], suites=["evals/core"], model="offline", repeat=1, workers=1, duration_s=1.0
    )
    json_path, _ = write_reports(report, tmp_path / name)
    return json_path


def test_compare_exits_1_on_a_regression_and_0_otherwise(tmp_path: Path) -> None:
    good, bad = _results(tmp_path, "a", "passed"), _results(tmp_path, "b", "failed")
    code, out, _ = _invoke("eval", "compare", str(good), str(bad))
    assert code == 1
    assert "oom: regressed (100% → 0%)  REGRESSION" in out
    code, out, _ = _invoke("eval", "compare", str(bad), str(good))
    assert code == 0
    assert out.strip().endswith("no regressions")
    code, _, err = _invoke("eval", "compare", str(good), str(tmp_path / "missing.json"))
    assert code == 1
    assert "cannot read" in err
