"""`hexaops eval …`: run scenario suites against a model, compare two runs, check suites.

Progress goes to stderr, results to stdout (a summary, or the JSON result with --json).
Exit codes: 0 done (no errored scenario, pass rate at least --fail-under), 1 an operation
error, errored scenarios, a pass rate below --fail-under, or regressions (compare); 2 usage.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from hexaops.evals.compare import compare, compare_text
from hexaops.evals.report import build_report, load_report, report_json, write_reports
from hexaops.evals.runner import ModelSpec, run_scenarios
from hexaops.evals.scenario import TASK_LEVELS, load_suite, schema_text
from hexaops.platform.errors import PlatformError
from hexaops.ui.cli.output import JsonFlag, fail

app = typer.Typer(help="Evaluation harness: scenario suites on the sandbox.", no_args_is_help=True)

Suites = Annotated[
    list[Path],
    typer.Option("--suite", "-s", help="A suite directory or scenario file (repeatable)."),
]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.0%}"


def _print_summary(report: dict[str, Any]) -> None:
    summary = report["summary"]
    overall = summary["overall"]
    k = overall.get("k", 1)
    print(
        f"{', '.join(report['suites'])} — model {report['model']}, repeat {report['repeat']}, "
        f"{report['duration_s']} s"
    )
    consistency = (
        f"pass@{k} {_pct(overall.get(f'pass@{k}'))}, pass-all-{k} {_pct(overall['pass_all_k'])}, "
        if k > 1
        else ""
    )
    print(
        f"overall: {overall['scenarios']} scenarios, pass@1 {_pct(overall['pass@1'])}, "
        f"{consistency}errored attempts {overall['errored']}"
    )
    for name, rate in report.get("deepeval", {}).get("pass_rates", {}).items():
        print(f"  deepeval {name}: {_pct(rate)} of attempts")
    print("by level:")
    for name, score in summary["by_level"].items():
        print(f"  {name:<14} {_pct(score['pass@1']):>5}  ({score['scenarios']} scenarios)")
    if summary["task_level_average"] is not None:
        print(f"  average over {', '.join(TASK_LEVELS)}: {_pct(summary['task_level_average'])}")
    print("by category:")
    for name, score in summary["by_category"].items():
        print(f"  {name:<20} {_pct(score['pass@1']):>5}  ({score['scenarios']})")
    cost = summary["per_attempt"]
    print(
        f"per attempt: {cost['mean_tokens']:.0f} tokens, {cost['mean_steps']} model calls, "
        f"agent {cost['mean_latency_ms']:.0f} ms (with sandbox {cost['mean_total_ms']:.0f} ms); "
        f"total cost {cost['total_cost_usd'] if cost['total_cost_usd'] is not None else 'n/a'} USD"
    )
    failing = [r for r in report["scenarios"] if r["passes"] < r["attempts"]]
    if failing:
        print("not passing:")
        for row in failing:
            print(f"  {row['id']} ({row['passes']}/{row['attempts']})")


@app.command("run")
def run(
    suite: Suites,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="offline | anthropic[:MODEL] | openai[:MODEL] | openai-compatible:MODEL",
        ),
    ] = "offline",
    repeat: Annotated[int, typer.Option("--repeat", "-k", min=1, max=20)] = 1,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-j", min=1, max=16, help="Worker processes [default: 2, or 1 on one CPU]."
        ),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run scenarios whose id contains this.")
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report", help="Write results.json and report.html here.")
    ] = None,
    deepeval: Annotated[
        bool,
        typer.Option(
            "--deepeval",
            help="Also score each attempt with the deepeval metrics "
            "(GEval when HEXAOPS_EVAL_JUDGE is set).",
        ),
    ] = False,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", min=0, max=100, help="Exit 1 below this pass@1 %."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run suites: each scenario on a fresh sandbox, scored deterministically."""
    try:
        spec = ModelSpec.parse(model)
        workers = workers or min(2, os.cpu_count() or 1)
        scenarios = load_suite(suite, only or ())
        _say(f"{len(scenarios)} scenario(s) × {repeat} on {spec.label()}, {workers} worker(s)")
        start = time.perf_counter()
        results = run_scenarios(scenarios, spec, repeat, workers, _say)
    except PlatformError as exc:
        fail(exc.message)
    report = build_report(
        results,
        suites=[str(s) for s in suite],
        model=spec.label(),
        repeat=repeat,
        workers=workers,
        duration_s=time.perf_counter() - start,
    )
    if deepeval:
        report["deepeval"] = _deepeval(scenarios, results)
    if report_dir is not None:
        json_path, html_path = write_reports(report, report_dir)
        _say(f"wrote {json_path} and {html_path}")
    if as_json:
        sys.stdout.write(report_json(report))
    else:
        _print_summary(report)
    overall = report["summary"]["overall"]
    if overall["errored"]:
        _say(f"{overall['errored']} attempt(s) errored: see the results for the reasons")
        raise typer.Exit(1)
    if fail_under is not None and overall["pass@1"] * 100 < fail_under:
        _say(f"pass@1 {_pct(overall['pass@1'])} is below --fail-under {fail_under:g} %")
        raise typer.Exit(1)


def _deepeval(scenarios: list[Any], results: list[Any]) -> dict[str, Any]:
    from hexaops.evals.metrics import configured_judge, measure_all

    scores = measure_all(scenarios, results, configured_judge())
    names = sorted({name for attempt in scores.values() for name in attempt})
    rates = {
        name: sum(a[name]["success"] for a in scores.values() if name in a)
        / max(1, sum(name in a for a in scores.values()))
        for name in names
    }
    return {"pass_rates": rates, "attempts": scores}


@app.command("compare")
def compare_runs(
    baseline: Annotated[Path, typer.Argument(help="results.json of the baseline run")],
    candidate: Annotated[Path, typer.Argument(help="results.json of the new run")],
    tolerance: Annotated[float, typer.Option("--tolerance", min=0, max=1)] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Compare two runs; exit 1 when the candidate regressed."""
    try:
        result = compare(load_report(baseline), load_report(candidate), tolerance)
    except PlatformError as exc:
        fail(exc.message)
    if as_json:
        sys.stdout.write(report_json(result))
    else:
        print(compare_text(result))
    if result["regressions"] or result["group_regressions"]:
        raise typer.Exit(1)


@app.command("validate")
def validate(suite: Suites) -> None:
    """Check scenario files against the schema (errors name the file and line)."""
    try:
        scenarios = load_suite(suite)
    except PlatformError as exc:
        fail(exc.message)
    print(f"{len(scenarios)} scenario(s) valid")


@app.command("schema")
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here.")] = None,
) -> None:
    """Print (or write) the scenario JSON schema."""
    if output is None:
        sys.stdout.write(schema_text())
    else:
        output.write_text(schema_text(), encoding="utf-8")
        _say(f"wrote {output}")
