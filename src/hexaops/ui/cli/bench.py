"""`hexaops bench …`: performance figures, each against a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from hexaops.platform.bench import bench_platform
from hexaops.ui.cli.output import JsonFlag, console, emit_json

app = typer.Typer(
    help="Benchmarks (figures and ratios against a same-run baseline).", no_args_is_help=True
)


@app.command("platform")
def platform_bench(
    workspaces: Annotated[int, typer.Option("--workspaces", min=1, max=100_000)] = 1000,
    clients: Annotated[
        int | None,
        typer.Option("--clients", min=1, max=32, help="Client processes (default: usable CPUs)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create N workspaces with a project each through the action pipeline (goal: 1,000 < 10 s)."""
    if as_json:
        emit_json(bench_platform(workspaces, clients))
        return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("workspaces + projects", total=workspaces)
        result = bench_platform(
            workspaces, clients, lambda done: progress.update(task, completed=done)
        )
    console.print(
        f"[bold]bench platform[/bold]: {workspaces} workspaces + {workspaces} projects, "
        f"{result.clients} client process(es), embedded PostgreSQL, sandbox driver",
        soft_wrap=True,
    )
    for f in (result.pipeline, result.baseline):
        console.print(
            f"  {f.name:<9} {f.actions} actions in {f.seconds:.2f} s — {f.actions_per_second:.0f} actions/s, "
            f"p50 {f.p50_ms:.2f} ms, p95 {f.p95_ms:.2f} ms",
            highlight=False,
        )
    console.print(
        f"  pipeline / baseline time: {result.pipeline_vs_baseline:.2f}×", highlight=False
    )
    verdict = "[green]met[/green]" if result.goal_met else "[red]missed[/red]"
    console.print(
        f"  goal ({workspaces} workspaces in under {result.goal_seconds:.1f} s): {verdict}"
    )


@app.command("sandbox")
def sandbox_bench(
    workspaces: Annotated[int, typer.Option("--workspaces", min=1, max=1000)] = 50,
    deployments: Annotated[int, typer.Option("--deployments", min=1, max=200)] = 20,
    hours: Annotated[float, typer.Option("--hours", min=0.25, max=24 * 31)] = 24.0,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a fleet for H hours at 15 s into chDB (goal: >= 500,000 samples/s end to end)."""
    from hexaops.platform.sandbox.bench import bench_sandbox

    if as_json:
        emit_json(bench_sandbox(workspaces, deployments, hours))
        return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulated hours", total=hours)
        result = bench_sandbox(
            workspaces, deployments, hours, lambda done: progress.update(task, completed=done)
        )
    console.print(
        f"[bold]bench sandbox[/bold]: {workspaces} workspaces x {deployments} deployments "
        f"({result.pods} pods), {hours:g} simulated hours at 15 s, embedded chDB",
        soft_wrap=True,
    )
    console.print(
        f"  end to end  {result.samples:,} samples in {result.seconds:.1f} s — "
        f"{result.samples_per_second:,.0f} samples/s ({result.logs:,} logs, {result.events:,} events)",
        soft_wrap=True,
        highlight=False,
    )
    console.print(f"  rows stored {result.rows_stored:,}", highlight=False)
    console.print(
        f"  baseline    store alone: {result.store_only_samples_per_second:,.0f} samples/s; "
        f"end to end / store alone: {result.end_to_end_vs_store_only:.2f}",
        soft_wrap=True,
        highlight=False,
    )
    verdict = "[green]met[/green]" if result.goal_met else "[red]missed[/red]"
    console.print(f"  goal (>= {result.goal_samples_per_second:,} samples/s): {verdict}")
