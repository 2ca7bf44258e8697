"""The metrics tools: a workload's vital signs, top consumers, before/after a change, PromQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from hexaops.platform.drivers.contract import NamespaceRef
from hexaops.platform.errors import InvalidInput, NotFound, PlatformError
from hexaops.platform.names import parse_memory
from hexaops.tools.args import OrgArg, Window, parse_duration, parse_time
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import BackendUnavailable, Evidence, Outcome, tool
from hexaops.tools.metrics.backend import (
    MAX_POINTS,
    MetricsBackend,
    Resource,
    Sampled,
    Signal,
    Steps,
)
from hexaops.tools.metrics.clickhouse import ClickHouseBackend
from hexaops.tools.metrics.prometheus import PrometheusBackend
from hexaops.tools.metrics.promql import enforce_tenant
from hexaops.tools.metrics.report import (
    MIB,
    Stats,
    delta,
    describe,
    rounded,
    series_json,
    verdict,
)
from hexaops.tools.metrics.workloads import Scope, tenant_matchers, workload_of

MAX_SERIES = 20


def metrics_backend(ctx: ToolContext) -> MetricsBackend:
    """Prometheus when HEXAOPS_PROMETHEUS_URL is set, else the ClickHouse telemetry store;
    one per context."""

    def make() -> MetricsBackend:
        if ctx.settings.prometheus_url:
            return PrometheusBackend(ctx.settings.prometheus_url, ctx.timeout_seconds)
        return ClickHouseBackend(ctx.telemetry())

    return ctx.resource("metrics", make)


# -- arguments -----------------------------------------------------------------------------


class ScopeArgs(Window, OrgArg):
    workspace: str | None = Field(
        default=None, description="Workspace (vCluster) name; default: all you can see."
    )
    project: str | None = Field(
        default=None, description="Project (namespace) in the workspace; needs workspace."
    )


class WorkloadArgs(ScopeArgs):
    workload: str | None = Field(
        default=None,
        description="Application (Deployment) in the project, e.g. checkout; needs project.",
    )


class TopArgs(ScopeArgs):
    resource: Literal["cpu", "memory"] = Field(
        default="memory", description="What to rank by: cpu (cores) or memory (working set)."
    )
    by: Literal["pod", "workload", "project"] = Field(
        default="pod", description="Group by pod, workload (application) or project."
    )
    limit: int = Field(default=10, ge=1, le=50, description="How many to list.")


class CompareArgs(OrgArg):
    workspace: str = Field(description="Workspace (vCluster) name.")
    project: str = Field(description="Project (namespace) in the workspace.")
    workload: str | None = Field(
        default=None, description="Application; default: the whole project."
    )
    at: str | None = Field(
        default=None,
        description="The change time (ISO 8601); default: the workload's latest rollout.",
    )
    around: str = Field(
        default="30m", description="How long before and after the change to compare, e.g. 30m."
    )


class PromQLArgs(Window, OrgArg):
    query: str = Field(description="A PromQL expression; tenant label matchers are added.")
    workspace: str | None = Field(
        default=None, description="Restrict to one workspace; default: all you can see."
    )
    range: bool = Field(
        default=False,
        description="false: one value per series at `end` (default now); true: values over the "
        "window (since or start/end).",
    )


# -- scope ---------------------------------------------------------------------------------


def _scope(
    ctx: ToolContext,
    org: str | None,
    workspace: str | None,
    project: str | None,
    workload: str | None = None,
) -> tuple[Scope, int | None]:
    """The scope of a read, checked against what the principal may see, and the workload's
    memory limit when it is an application."""
    if project is not None and workspace is None:
        raise InvalidInput("project needs workspace: say which workspace it is in")
    if workload is not None and project is None:
        raise InvalidInput("workload needs project (and workspace)")
    if workspace is None:
        slug = ctx.organization(org)
        names = tuple(ws.name for ws in ctx.workspaces(slug))
        return Scope(slug, names), None
    if project is None:
        ws = ctx.workspace(workspace, org)
        return Scope(ws.org, (ws.name,)), None
    p = ctx.project(workspace, project, org)
    if workload is None:
        return Scope(p.org, (p.workspace,), p.name), None
    try:
        app = ctx.application(workspace, project, workload, org)
        limit = parse_memory(str(app.resources.get("memory_limit", "0")))
    except NotFound:
        ctx.function(workspace, project, workload, org)  # NotFound if neither
        limit = 0
    return Scope(p.org, (p.workspace,), p.name, workload), limit or None


def _window_text(window: Window, start: datetime, end: datetime) -> str:
    if window.start is None and window.end is None:
        return f"the last {window.since}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC"


def _evidence(
    backend: MetricsBackend, queries: list[str], start: datetime, end: datetime
) -> list[Evidence]:
    return [
        Evidence(kind="query", backend=backend.name, query=q, start=start, end=end) for q in queries
    ]


def _vitals(
    backend: MetricsBackend, scope: Scope, start: datetime, end: datetime, points: int
) -> tuple[Steps, dict[Signal, Sampled], dict[Signal, Stats]]:
    steps = Steps.over(start, end, points)
    sampled = {s: backend.signal(scope, s, steps) for s in Signal}
    stats = {s: st for s, v in sampled.items() if (st := Stats.of(v)) is not None}
    return steps, sampled, stats


# -- tools ---------------------------------------------------------------------------------


@tool("metrics_workload", "metrics")
def workload_metrics(ctx: ToolContext, args: WorkloadArgs) -> Outcome:
    """CPU (cores), memory working set (MiB, total and the largest pod against its limit),
    container restarts, HTTP 5xx error rate (%) and p95 latency (ms) of a workload, a project,
    a workspace or all your workspaces over a window: summary statistics plus a compact series
    (one value per step). Use it first to see how an application is doing or whether a symptom
    (OOM, crash loop, errors, slowness) shows in its metrics."""
    scope, limit = _scope(ctx, args.org, args.workspace, args.project, args.workload)
    start, end = ctx.window(args)
    backend = metrics_backend(ctx)
    steps, sampled, stats = _vitals(backend, scope, start, end, MAX_POINTS)
    evidence = _evidence(backend, [s.query for s in sampled.values()], steps.start, end)
    window = _window_text(args, start, end)
    if not stats:
        return Outcome(
            f"no metrics for {scope.describe()} in {window}", evidence=evidence, empty=True
        )
    data: dict[str, Any] = {
        "scope": scope.describe(),
        "start": steps.start.isoformat(),  # the series' k-th value covers the k-th step after it
        "end": end.isoformat(),
        "step_seconds": steps.seconds,
        "stats": {s.value: st.to_json() for s, st in stats.items()},
        "series": {s.value: series_json(v, steps) for s, v in sampled.items() if v.points},
    }
    if limit:
        data["memory_limit_mib"] = rounded(limit / MIB)
    summary = f"{scope.describe()} in {window}: " + "; ".join(describe(stats, limit))
    return Outcome(summary, data, evidence)


@tool("metrics_top_consumers", "metrics")
def top_consumers(ctx: ToolContext, args: TopArgs) -> Outcome:
    """The biggest CPU or memory users over a window, by pod, workload (application) or
    project, largest first, with average (and for memory, peak) use. Use it to find what eats
    a workspace's or node pool's capacity, or which pod of an application stands out."""
    scope, _ = _scope(ctx, args.org, args.workspace, args.project)
    start, end = ctx.window(args)
    backend = metrics_backend(ctx)
    resource = Resource(args.resource)
    usage = backend.usage(scope, resource, start, end)
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for pod in usage.pods:
        key: tuple[str, ...] = {
            "pod": (pod.workspace, pod.namespace, pod.pod),
            "workload": (pod.workspace, pod.namespace, workload_of(pod.pod)),
            "project": (pod.workspace, pod.namespace),
        }[args.by]
        group = groups.setdefault(key, {"avg": 0.0, "peak": None, "pods": 0})
        group["avg"] += pod.average
        group["pods"] += 1
        if pod.peak is not None:  # the largest single pod of the group
            group["peak"] = max(group["peak"] or 0.0, pod.peak)
    # Rounded, then by name: equal use (e.g. twin staging and prod pods) ranks the same on
    # every backend.
    ranked = sorted(groups.items(), key=lambda kv: (-rounded(kv[1]["avg"]), kv[0]))[: args.limit]
    evidence = _evidence(backend, usage.queries, start, end)
    if not ranked:
        return Outcome(
            f"no {args.resource} usage for {scope.describe()} in {_window_text(args, start, end)}",
            evidence=evidence,
            empty=True,
        )
    unit = "cores" if resource is Resource.CPU else "MiB"
    scale = 1.0 if resource is Resource.CPU else 1 / MIB
    rows = []
    for key, g in ranked:
        row: dict[str, Any] = {args.by: "/".join(key), f"avg_{unit}": rounded(g["avg"] * scale)}
        if g["peak"] is not None:
            row[f"peak_pod_{unit}"] = rounded(g["peak"] * scale)
        if args.by != "pod":
            row["pods"] = g["pods"]
        rows.append(row)
    top = ", ".join(f"{r[args.by]} {r[f'avg_{unit}']:g} {unit}" for r in rows[:3])
    summary = f"top {args.resource} by {args.by} in {scope.describe()} (avg over the window): {top}"
    return Outcome(summary, {"unit": unit, "top": rows}, evidence)


def _latest_rollout(ctx: ToolContext, scope: Scope) -> tuple[datetime, str]:
    """When the workload's pods last changed (the Deployment controller's ScalingReplicaSet
    event, on the platform's clock), and the platform action behind it if there is one."""
    assert scope.workload is not None
    assert scope.namespace is not None
    ref = NamespaceRef(org=scope.org, workspace=scope.workspaces[0], namespace=scope.namespace)
    try:
        events = ctx.platform.driver.list_events(ref)
    except PlatformError as exc:
        raise BackendUnavailable(
            f"cannot read the rollouts of {scope.describe()} ({exc.message}): give the change "
            "time with at"
        ) from None
    rollouts = [
        e
        for e in events
        if e.kind == "Deployment" and e.name == scope.workload and e.reason == "ScalingReplicaSet"
    ]
    if not rollouts:
        raise NotFound(
            f"no recent rollout of {scope.describe()} found: give the change time with at"
        )
    latest = max(rollouts, key=lambda e: e.last_seen)
    what = f"the rollout at {latest.last_seen.isoformat()} ({latest.message})"
    target = f"{scope.org}/{scope.workspaces[0]}/{scope.namespace}/{scope.workload}"
    for action in ctx.platform.list_actions(ctx.principal, scope.org, limit=50):
        if action.target == target and action.operation.startswith("application."):
            what += f"; latest action on it: #{action.id} {action.summary}"
            break
    return latest.last_seen, what


@tool("metrics_compare", "metrics")
def compare(ctx: ToolContext, args: CompareArgs) -> Outcome:
    """Before/after comparison of a workload's (or project's) CPU, memory, restarts, 5xx rate
    and p95 latency around a change — by default the workload's latest rollout (deploy,
    rollback, restart or scale), or a given time — with deltas and a verdict (regression,
    improvement, no significant change). Use it to tell whether a deploy caused a problem or a
    fix worked."""
    scope, _ = _scope(ctx, args.org, args.workspace, args.project, args.workload)
    around = parse_duration(args.around)
    if around < timedelta(minutes=2):
        raise InvalidInput("around must be at least 2m (a step needs several samples)")
    if args.at is not None:
        at, change = parse_time(args.at), f"the change at {args.at}"
    elif scope.workload is not None:
        at, change = _latest_rollout(ctx, scope)
    else:
        raise InvalidInput("give at (the change time) or a workload whose rollout to use")
    now = ctx.now()
    if at >= now - timedelta(minutes=2):
        raise InvalidInput(f"{change} is too recent to compare: wait a few minutes")
    end = min(at + around, now)
    span = end - at
    backend = metrics_backend(ctx)
    points = max(2, min(MAX_POINTS // 2, round(span.total_seconds() / 60)))
    _, _, before = _vitals(backend, scope, at - span, at, points)
    _, after_s, after = _vitals(backend, scope, at, end, points)
    deltas = {s: delta(s, before.get(s), after.get(s)) for s in Signal if s in before or s in after}
    queries = [s.query for s in after_s.values()]
    evidence = _evidence(backend, queries, at - span, end)
    if not deltas:
        return Outcome(
            f"no metrics for {scope.describe()} around {at.isoformat()}",
            evidence=evidence,
            empty=True,
        )
    judged = verdict(deltas)
    moved = [
        f"{s.value} {d['before']:g}→{d['after']:g} {d['unit']}"
        for s, d in deltas.items()
        if d.get("change") in ("worse", "better")
    ]
    summary = (
        f"{scope.describe()} {span.total_seconds() / 60:g}m before vs after {change}: {judged}"
    )
    if moved:
        summary += " (" + "; ".join(moved) + ")"
    data = {
        "change_at": at.isoformat(),
        "change": change,
        "minutes_each_side": rounded(span.total_seconds() / 60),
        "verdict": judged,
        "signals": {s.value: d for s, d in deltas.items()},
    }
    return Outcome(summary, data, evidence)


@tool("metrics_promql", "metrics")
def promql(ctx: ToolContext, args: PromQLArgs) -> Outcome:
    """Run a PromQL query against Prometheus, restricted to your organization's workspaces
    (org and workspace matchers are added to every selector). Use it for what the other
    metrics_* tools do not answer; it needs a Prometheus (HEXAOPS_PROMETHEUS_URL). Series
    labels: org, workspace, namespace, pod, container plus the exporter's own (code, le, …)."""
    if args.workspace is not None:
        ws = ctx.workspace(args.workspace, args.org)
        matchers = tenant_matchers(ws.org, (ws.name,))
    else:
        org = ctx.organization(args.org)
        matchers = tenant_matchers(org, tuple(w.name for w in ctx.workspaces(org)))
    scoped = enforce_tenant(args.query, matchers)
    backend = metrics_backend(ctx)
    start, end = ctx.window(args)
    steps = Steps.over(start, end)
    result = backend.promql(scoped, steps.first if args.range else None, end, steps.seconds)
    evidence = _evidence(backend, [scoped], start if args.range else end, end)
    if not result.series:
        return Outcome("the query returned no series", evidence=evidence, empty=True)
    ranked = sorted(
        result.series, key=lambda s: s[1][-1][1] if s[1] else float("-inf"), reverse=True
    )
    rows: list[dict[str, Any]] = []
    for labels, points in ranked[:MAX_SERIES]:
        values = [rounded(v) for _, v in points]
        row: dict[str, Any] = {"labels": labels}
        if args.range:
            row["values"] = values
        else:
            row["value"] = values[-1] if values else None
        rows.append(row)
    first = rows[0]
    shown_value = first.get("value", (first.get("values") or [None])[-1])
    summary = f"{len(result.series)} series; largest {first['labels'] or '{}'} = {shown_value}"
    data: dict[str, Any] = {"series": rows}
    if args.range:
        data |= {"first": steps.first.isoformat(), "step_seconds": steps.seconds}
    return Outcome(summary, data, evidence)
