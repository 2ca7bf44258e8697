"""The log tools: a summary by templates, a bounded search, top error templates, raw LogQL."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.tools.args import Window
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Evidence, Outcome, tool
from hexaops.tools.logs.backends import (
    ClickHouseLogs,
    LogBackend,
    LogScope,
    LokiLogs,
    levels_from,
)
from hexaops.tools.logs.logql import scope_logql
from hexaops.tools.logs.summary import headline, render_line, summarize
from hexaops.tools.logs.templates import ranked

Level = Literal["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
_FRAME_TOKENS = 300  # what a result's summary and evidence take besides the data


def backend(ctx: ToolContext) -> LogBackend:
    """Loki when configured, else the ClickHouse telemetry store; one per context."""

    def create() -> LogBackend:
        if ctx.settings.loki_url:
            return LokiLogs(
                ctx.settings.loki_url, ctx.settings.loki_tenant_header, ctx.timeout_seconds
            )
        return ClickHouseLogs(ctx.telemetry())

    return ctx.resource("logs", create)


class LogTarget(Window):
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
    workspace: str | None = Field(
        default=None, description="Workspace name; default: all workspaces you can see."
    )
    project: str | None = Field(
        default=None, description="Project (namespace) in the workspace; needs workspace."
    )
    workload: str | None = Field(
        default=None,
        description="Application or function name in the project; needs workspace and project.",
    )
    pod: str | None = Field(default=None, description="One pod's name; needs workspace.")


def resolve_scope(ctx: ToolContext, args: LogTarget) -> LogScope:
    """The streams `args` name, each checked visible to the principal."""
    org = ctx.organization(args.org)
    if args.workspace is None:
        if args.project or args.workload or args.pod:
            raise InvalidInput("project, workload and pod need a workspace")
        names = tuple(ws.name for ws in ctx.workspaces(org))
        if not names:
            raise NotFound(f"you can see no workspace of {org}")
        return LogScope(org, names)
    ws = ctx.workspace(args.workspace, org)
    namespace = container = None
    if args.project is not None:
        namespace = ctx.project(ws.name, args.project, org).name
    if args.workload is not None:
        if args.project is None:
            raise InvalidInput("workload needs the project it runs in")
        container = _workload(ctx, ws.name, args.project, args.workload, org)
    return LogScope(org, (ws.name,), namespace, container, args.pod)


def _workload(ctx: ToolContext, workspace: str, project: str, name: str, org: str) -> str:
    try:
        return ctx.application(workspace, project, name, org).name
    except NotFound:
        try:
            return ctx.function(workspace, project, name, org).name
        except NotFound:
            raise NotFound(
                f"no application or function {name!r} in {workspace}/{project}"
            ) from None


def _evidence(
    ctx: ToolContext, query: str, start: datetime, end: datetime, scope: LogScope
) -> Evidence:
    return Evidence(
        kind="query",
        backend=backend(ctx).name,
        query=query,
        start=start,
        end=end,
        objects=[f"{scope.org}/{ws}" for ws in scope.workspaces],
    )


class SummaryArgs(LogTarget):
    level: Level | None = Field(
        default=None, description="Only lines at this level or above, e.g. WARN or ERROR."
    )


@tool("logs_summary", "logs")
def logs_summary(ctx: ToolContext, args: SummaryArgs) -> Outcome:
    """Summarize the logs of a workspace, project, workload or pod over a window: the message
    templates (variable parts as <*>) ranked errors first then rarest, with counts per level,
    first/last time and examples, plus the lines around the first error. Start here for "what
    do the logs say" — it covers every line of the window in a few hundred tokens; use
    logs_search afterwards for the raw lines of one template."""
    scope = resolve_scope(ctx, args)
    start, end = ctx.window(args)
    mined, query = backend(ctx).mine(scope, start, end, levels=levels_from(args.level))
    evidence = [_evidence(ctx, query, start, end, scope)]
    if mined.lines == 0:
        return Outcome(f"no log lines in {scope.describe()} in the window", None, evidence, True)
    data = summarize(
        mined.miner.templates,
        lines=mined.lines,
        levels=mined.levels,
        first_error=mined.first_error,
        budget_tokens=max(200, ctx.budget_tokens - _FRAME_TOKENS),
    )
    text = headline(data, scope.describe())
    if mined.sampled:
        text += f" (from the latest {mined.lines} lines of the window only)"
    return Outcome(text, data, evidence)


class SearchArgs(LogTarget):
    contains: str | None = Field(
        default=None, description="Case-insensitive substring the message must contain."
    )
    level: Level | None = Field(
        default=None, description="Only lines at this level or above, e.g. ERROR."
    )
    limit: int = Field(default=50, ge=1, le=500, description="Most lines to return (newest).")


@tool("logs_search", "logs")
def logs_search(ctx: ToolContext, args: SearchArgs) -> Outcome:
    """Find log lines of a workspace, project, workload or pod over a window, filtered by level
    and a substring; the newest first. Use it to read the raw lines behind a template from
    logs_summary or to check whether a message occurs at all."""
    scope = resolve_scope(ctx, args)
    start, end = ctx.window(args)
    lines, query = backend(ctx).search(
        scope, start, end, levels=levels_from(args.level), contains=args.contains, limit=args.limit
    )
    evidence = [_evidence(ctx, query, start, end, scope)]
    if not lines:
        return Outcome(f"no matching log lines in {scope.describe()}", None, evidence, True)
    newest_first = [render_line(r) for r in reversed(lines)]
    more = (
        " (limit reached: narrow the filters for older lines)" if len(lines) >= args.limit else ""
    )
    return Outcome(
        f"{len(lines)} log lines in {scope.describe()}, newest first{more}",
        newest_first,
        evidence,
    )


class TopErrorsArgs(Window):
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
    workspace: str | None = Field(
        default=None, description="One workspace; default: all workspaces you can see."
    )
    limit: int = Field(default=10, ge=1, le=50, description="Most templates to return.")


@tool("logs_top_errors", "logs")
def logs_top_errors(ctx: ToolContext, args: TopErrorsArgs) -> Outcome:
    """The most frequent error message templates (ERROR and FATAL lines, variable parts as
    <*>) across the workspaces you can see, or one workspace, with counts, workspaces, first
    and last time and an example. Use it to spot which workloads are failing and how."""
    scope = resolve_scope(ctx, LogTarget(org=args.org, workspace=args.workspace))
    start, end = ctx.window(args)
    mined, query = backend(ctx).mine(scope, start, end, levels=levels_from("ERROR"))
    evidence = [_evidence(ctx, query, start, end, scope)]
    if mined.lines == 0:
        return Outcome(f"no errors in {scope.describe()} in the window", None, evidence, True)
    top = sorted(ranked(mined.miner.templates), key=lambda t: -t.count)[: args.limit]
    data = [
        {
            "template": t.text,
            "count": t.count,
            "levels": t.levels,
            "workspaces": sorted(t.workspaces),
            "first": t.first.isoformat() if t.first else None,
            "last": t.last.isoformat() if t.last else None,
            "example": t.examples[0] if t.examples else "",
        }
        for t in top
    ]
    return Outcome(
        f"{mined.lines} error lines in {scope.describe()} in {len(mined.miner.templates)} "
        f"templates; top: {top[0].text} ({top[0].count}×)",
        data,
        evidence,
    )


class LogQLArgs(Window):
    query: str = Field(
        description='A LogQL query, e.g. {namespace="shop"} |= "timeout" or '
        'sum by (pod) (count_over_time({container="checkout"} |= "error" [5m])). The '
        "org and workspace matchers are added for you."
    )
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
    workspace: str | None = Field(
        default=None, description="One workspace; default: all workspaces you can see."
    )
    limit: int = Field(default=100, ge=1, le=1000, description="Most log lines to return.")


@tool("logs_logql", "logs")
def logs_logql(ctx: ToolContext, args: LogQLArgs) -> Outcome:
    """Run a raw LogQL query (Loki only) for what logs_search and logs_summary cannot say:
    parsers (| json, | logfmt), line_format, metric queries (rate, count_over_time, sum by).
    Stream labels: org, workspace, namespace, pod, container (the workload), level. Your
    organization and workspaces are enforced on every stream selector."""
    scope = resolve_scope(ctx, LogTarget(org=args.org, workspace=args.workspace))
    start, end = ctx.window(args)
    visible = [ws.name for ws in ctx.workspaces(scope.org)]
    logs = backend(ctx)
    if not isinstance(logs, LokiLogs):
        logs.logql(scope, args.query, start, end, args.limit)  # raises: says what to use
    query = scope_logql(args.query, scope.org, scope.workspaces, visible)
    result = logs.logql(scope, query, start, end, args.limit)
    evidence = [_evidence(ctx, query, start, end, scope)]
    if result.kind == "streams":
        if not result.lines:
            return Outcome("the LogQL query matched no lines", None, evidence, True)
        lines = [render_line(r) for r in reversed(result.lines)]
        return Outcome(f"{len(lines)} log lines, newest first", lines, evidence)
    if not result.series:
        return Outcome("the LogQL query returned no series", None, evidence, True)
    return Outcome(f"{len(result.series)} {result.kind} series", result.series, evidence)
