"""`hexaops bench …`: performance figures, each against a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import Progress

from hexaops.platform.bench import bench_platform
from hexaops.ui.cli.output import JsonFlag, console, emit_json, fail

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


@app.command("tools")
def tools_bench(
    rows: Annotated[
        int, typer.Option("--rows", min=10_000, max=100_000_000, help="Log rows in chDB.")
    ] = 10_000_000,
    lines: Annotated[
        int, typer.Option("--lines", min=1_000, max=10_000_000, help="Lines to summarize.")
    ] = 1_000_000,
    pods: Annotated[
        int, typer.Option("--pods", min=10, max=100_000, help="Pods for the analyzer pass.")
    ] = 1000,
    as_json: JsonFlag = False,
) -> None:
    """Top error templates over N log rows in a scratch chDB (goals: one workspace 1 h <= 20 ms,
    platform-wide 24 h <= 600 ms), a log summary of M lines, an analyzer pass over P pods."""
    import tempfile

    from hexaops.platform.telemetry.clickhouse import ClickHouseStore
    from hexaops.tools.diagnostics.bench import bench_analyzers
    from hexaops.tools.logs.bench import bench_logs

    with (
        tempfile.TemporaryDirectory(prefix="hexaops-bench-") as scratch,
        console.status("log benchmark") as status,
        ClickHouseStore.connect(f"chdb://{scratch}", database="bench") as store,
    ):
        logs = bench_logs(
            store, rows, summary_lines=lines, progress=None if as_json else status.update
        )
        status.update(f"analyzer pass over {pods} pods")
        analyzers = bench_analyzers(pods)
    if as_json:
        emit_json({"logs": logs, "analyzers": analyzers})
        return
    _print_tools_bench(logs, analyzers)


def _print_tools_bench(logs: dict[str, Any], analyzers: dict[str, Any]) -> None:
    def say(text: str) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    insert = logs["insert"]
    say(
        f"[bold]bench tools[/bold]: {logs['rows']:,} log rows in a scratch embedded chDB "
        f"(inserted at {insert['rows_per_s']:,} rows/s with the template id; "
        f"{insert['rows_per_s_without_template_id']:,} without)"
    )
    for name, label in (("workspace_1h", "one workspace, 1 h"), ("platform_24h", "platform, 24 h")):
        f = logs["top_errors"][name]
        verdict = "[green]met[/green]" if f["median_ms"] <= f["goal_ms"] else "[red]missed[/red]"
        say(
            f"  top error templates, {label}: {f['median_ms']:.1f} ms (median) — baseline "
            f"masking at query time {f['baseline_mask_at_query_ms']:.1f} ms, {f['speedup']}× ; "
            f"goal <= {f['goal_ms']:.0f} ms {verdict}"
        )
    s = logs["summary"]
    kept = "kept" if s["root_cause_kept"] else "[red]lost[/red]"
    say(
        f"  log summary: {s['lines']:,} lines → {s['tokens']:,} tokens (budget "
        f"{s['budget_tokens']:,}) in {s['seconds']:.1f} s, {s['templates']} templates, root-cause "
        f"line {kept} — baseline: raw lines {s['baseline_raw_tokens']:,} tokens; a tail of "
        f"{s['baseline_tail_lines']} lines in the same budget "
        f"{'keeps' if s['baseline_tail_root_cause_kept'] else 'misses'} it"
    )
    a, b = analyzers, analyzers["baseline"]
    say(
        f"  analyzers: {a['analyzers']} over {a['pods']:,} pods in {a['seconds'] * 1000:.1f} ms "
        f"({a['us_per_pod']} µs/pod, {a['reads']:,} reads, {a['findings']} findings) — baseline "
        f"re-reading per question {b['seconds'] * 1000:.1f} ms ({b['reads']:,} reads), "
        f"{a['speedup']}×"
    )


@app.command("knowledge")
def knowledge_bench(
    vectors: Annotated[
        int, typer.Option("--vectors", min=1000, max=5_000_000, help="Synthetic 384-dim chunks.")
    ] = 100_000,
    m: Annotated[int, typer.Option("--m", min=4, max=100, help="HNSW m.")] = 16,
    ef_construction: Annotated[
        int, typer.Option("--ef-construction", min=16, max=1000, help="HNSW ef_construction.")
    ] = 64,
    ef_search: Annotated[
        str, typer.Option("--ef-search", help="Comma-separated ef_search values to measure.")
    ] = "40,100,200,400",
    quality: Annotated[
        bool, typer.Option("--quality/--no-quality", help="Also score retrieval quality.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Retrieval quality over the labelled questions (hybrid vs full-text vs vector; goal:
    hybrid MRR >= 1.2x full-text) and HNSW speed on N synthetic chunks (goal: recall@10 >= 0.95
    at p95 <= 15 ms, with and without an org filter), on a throw-away embedded PostgreSQL."""

    from sqlalchemy import create_engine

    from hexaops.knowledge.bench import bench_knowledge
    from hexaops.knowledge.embeddings import embedder_from_settings
    from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
    from hexaops.settings import load_settings

    try:
        widths = [int(v) for v in ef_search.split(",") if v.strip()]
    except ValueError:
        fail(f"--ef-search takes comma-separated integers, not {ef_search!r}", 2)
    embedder = embedder_from_settings(load_settings())
    with (
        scratch_postgres("hexaops-bench-") as (_, server_url),
        console.status("knowledge benchmark") as status,
    ):
        engine = create_engine(sqlalchemy_url(server_url))
        try:
            migrate(engine)
            result = bench_knowledge(
                engine,
                embedder,
                vectors=vectors,
                quality=quality,
                log=None if as_json else status.update,
                m=m,
                ef_construction=ef_construction,
                ef_search=widths,
            )
        finally:
            engine.dispose()
    if as_json:
        emit_json(result)
        return
    _print_knowledge_bench(result)


def _print_knowledge_bench(result: dict[str, Any]) -> None:
    def say(text: str) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    q = result.get("quality")
    if q and "modes" in q:
        say(f"[bold]bench knowledge[/bold] — quality over {q['questions']} labelled questions:")
        for mode, f in q["modes"].items():
            say(
                f"  {mode:<7} recall@5 {f['recall_at_5']:.2f}  MRR {f['mrr']:.3f}  "
                f"({f['ms_per_query']:.1f} ms/query, {len(f['missed'])} missed)"
            )
        verdict = "[green]met[/green]" if q["goal_met"] else "[red]missed[/red]"
        say(f"  hybrid / full-text MRR: {q['hybrid_vs_text_mrr']}× (goal >= 1.2×) {verdict}")
    s = result["speed"]
    say(
        f"speed: {s['vectors']:,} clustered {s['dimensions']}-dim vectors, HNSW m={s['m']} "
        f"ef_construction={s['ef_construction']}: load {s['load_seconds']} s, build "
        f"{s['build_seconds']} s; exact search is the recall baseline"
    )
    for run in s["runs"]:
        where = (
            f"org filter (1/{round(1 / s['filter_selectivity'])})"
            if run["filtered"]
            else "no filter"
        )
        say(
            f"  ef_search {run['ef_search']:>4} {where:<20} recall@{s['k']} {run['recall']:.3f}  "
            f"p50 {run['p50_ms']:.1f} ms  p95 {run['p95_ms']:.1f} ms"
        )
    verdict = "[green]met[/green]" if s["goal_met"] else "[red]missed[/red]"
    best = f" (ef_search {s['recommended_ef_search']})" if s["recommended_ef_search"] else ""
    say(f"  goal ({s['goal']}): {verdict}{best}")
    if s.get("hint"):
        say(f"  hint: {s['hint']}")


@app.command("agents")
def agents_bench(
    turns: Annotated[
        int, typer.Option("--turns", min=0, max=100_000, help="Sequential turns (0: skip).")
    ] = 200,
    rate: Annotated[
        float, typer.Option("--rate", min=0, max=10_000, help="Poisson arrivals/s (0: skip).")
    ] = 100.0,
    seconds: Annotated[
        float, typer.Option("--seconds", min=1, max=3600, help="How long arrivals last.")
    ] = 60.0,
    burst: Annotated[
        int, typer.Option("--burst", min=0, max=100_000, help="Sessions at once (0: skip).")
    ] = 500,
    model_seconds: Annotated[
        float, typer.Option("--model-seconds", min=0, max=60, help="Scripted model latency.")
    ] = 1.0,
    processes: Annotated[
        int | None,
        typer.Option("--processes", min=1, max=64, help="Serving processes (default: CPUs)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The agent team against a bare create_agent loop over the same tool, with a scripted model
    (goals: per-turn overhead <= 1.5x the bare loop; at 100 turns/s, p95 overhead beyond model
    time <= 200 ms and no lost turns; a burst of 500 sessions all complete)."""
    from hexaops.agents.bench import bench_agents

    with console.status("agents benchmark") as status:
        result = bench_agents(
            turns=turns,
            rate=rate,
            seconds=seconds,
            burst=burst,
            model_seconds=model_seconds,
            processes=processes,
            progress=None if as_json else status.update,
        )
    if as_json:
        emit_json(result)
        return
    _print_agents_bench(result)


def _print_agents_bench(result: dict[str, Any]) -> None:
    def say(text: str) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    def verdict(ok: bool | None) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    say("[bold]bench agents[/bold]: the agent team (ours) vs a bare create_agent loop (baseline)")
    turn = result.get("per_turn")
    if turn:
        for side in ("baseline", "ours"):
            f = turn[side]
            say(
                f"  per turn, {side:<8} median {f['median_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, "
                f"{f['cpu_ms_per_turn']:.1f} ms CPU ({f['turns']} turns, zero-latency model)"
            )
        for v in turn.get("variants", []):
            say(f"    variant {v['name']:<30} {v['cpu_ms_per_turn']:.1f} ms CPU per turn")
        say(
            f"  ratio {turn['ratio_median']}× (goal <= 1.5×) "
            f"{verdict(result['verdicts'].get('overhead_ratio'))}"
        )
    for part, label in (("open_loop", "open loop"), ("burst", "burst")):
        section = result.get(part)
        if not section:
            continue
        what = (
            f"{section['rate']}/s for {section['seconds']} s"
            if part == "open_loop"
            else f"{section['sessions']} sessions at once"
        )
        for side in ("baseline", "ours"):
            f = section[side]
            say(
                f"  {label} ({what}), {side:<8} {f['completed']}/{f['turns']} completed, "
                f"{f['lost']} lost; overhead beyond model time p50 {f['p50_overhead_ms']} ms, "
                f"p95 {f['p95_overhead_ms']} ms ({f['processes']} serving processes)"
            )
    say(f"  verdicts: {result['verdicts']} — all goals {verdict(result['goals_met'])}")


# -- hexaops bench api (helper "api") ---------------------------------------------------------


@app.command("api")
def api_bench(
    rate: Annotated[float, typer.Option("--rate", min=0.1, max=10_000, help="Turns/s.")] = 50.0,
    seconds: Annotated[
        float, typer.Option("--seconds", min=1, max=3600, help="How long arrivals last.")
    ] = 30.0,
    model_seconds: Annotated[
        float, typer.Option("--model-seconds", min=0, max=60, help="Scripted model latency.")
    ] = 1.0,
    processes: Annotated[
        int | None,
        typer.Option("--processes", min=1, max=64, help="API server processes (default: CPUs)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Chat over HTTP + SSE, open loop, scripted model (goals: 50 turns/s sustained, p95
    overhead beyond model time <= 300 ms, 0 lost); then Alertmanager webhooks with re-sends
    (goal: >= 1,000 alerts/min through the webhook with dedupe, 0 lost)."""
    from hexaops.ui.api.bench import bench_api

    with console.status("api benchmark") as status:
        result = bench_api(
            rate=rate,
            seconds=seconds,
            model_seconds=model_seconds,
            processes=processes,
            progress=None if as_json else status.update,
        )
    if as_json:
        emit_json(result)
        return
    v = result["verdicts"]

    def mark(ok: bool) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    console.print(
        f"[bold]bench api[/bold]: {result['turns']} chat turns over HTTP+SSE at {rate:g}/s for "
        f"{seconds:g} s, {result['processes']} server process(es), model "
        f"{result['model_seconds_per_turn']:g} s per turn",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        f"  sustained {result['sustained_turns_per_second']} turns/s (goal 50) {mark(v['rate'])}\n"
        f"  overhead beyond model time: p50 {result['p50_overhead_ms']} ms, p95 "
        f"{result['p95_overhead_ms']} ms (goal <= 300) {mark(v['p95_overhead'])}, max "
        f"{result['max_overhead_ms']} ms\n"
        f"  lost {result['lost']} of {result['turns']} {mark(v['lost'])} "
        f"{'; '.join(result['first_lost'])}",
        highlight=False,
    )
    hook = result.get("webhook")
    if hook:
        console.print(
            f"  webhook: {hook['alerts']:,} alerts + {hook['resent_alerts']:,} re-sent in "
            f"{hook['webhooks']:,} webhooks: {hook['alerts_per_minute']:,.0f} alerts/min (goal "
            f">= 1,000) {mark(v['alerts_per_minute'])}; queued {hook['queued']:,}, duplicates "
            f"{hook['duplicates']:,}, lost {hook['lost']}",
            highlight=False,
        )


@app.command("incidents")
def incidents_bench(
    alerts: Annotated[int, typer.Option("--alerts", min=10, max=1_000_000)] = 2000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Intake threads.")] = 2,
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="Only these fault kinds (repeatable).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Alert intake (goal >= 1,000 alerts/min, 0 lost), alert → root cause p95 without an LLM
    (goal <= 1 s), and recovery time in simulated minutes over the fault catalog."""
    from hexaops.incidents.bench import bench_incidents
    from hexaops.platform.errors import PlatformError
    from hexaops.platform.sandbox import CATALOG

    unknown = sorted(set(fault or []) - set(CATALOG))
    if unknown:
        fail(f"unknown fault kind(s) {', '.join(unknown)}: see hexaops sandbox faults", 2)
    try:
        with console.status("incidents benchmark") as status:
            result = bench_incidents(
                alerts, workers, fault, (lambda _: None) if as_json else status.update
            )
    except PlatformError as exc:
        fail(exc.message)
    if as_json:
        emit_json(result)
        return
    intake = result["intake"]

    def mark(ok: bool) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    console.print(
        f"[bold]bench incidents[/bold]: intake {intake['alerts']} alerts from "
        f"{intake['workers']} threads in {intake['seconds']} s — {intake['alerts_per_minute']:,} "
        f"alerts/min (baseline plain inserts {intake['baseline_alerts_per_minute']:,}/min), lost "
        f"{intake['lost']} {mark(intake['goal_met'])}; outcomes {intake['outcomes']}",
        soft_wrap=True,
        highlight=False,
    )
    for f in result["faults"]:
        minutes = f"{f['recovery_minutes']:.0f} min" if f["recovery_minutes"] else "-"
        console.print(
            f"  {f['fault']:<29} → {f['root_cause']} on {f['on']} in "
            f"{f['seconds_to_root_cause']:.3f} s; {f['status']}, recovery {minutes}",
            highlight=False,
        )
    console.print(
        f"  alert → root cause p50 {result['root_cause_seconds_p50']} s, p95 "
        f"{result['root_cause_seconds_p95']} s {mark(result['root_cause_goal_met'])}; object at "
        f"fault named {result['named_object_at_fault']}/{len(result['faults'])}; resolved "
        f"{result['resolved']}/{len(result['faults'])}; mean recovery "
        f"{result['mean_recovery_minutes']} simulated min",
        highlight=False,
    )
