"""Evidence of an investigation, gathered through the same typed tools the agents use.

Everything is read as the organization's automation principal (role viewer): analyzers over
the workspace, each application's vitals around the alert, log templates, throttling, recent
changes from the action log, vulnerability reports, similar past incidents and runbooks.
Tool results are data: nothing in a log line or event message changes what is done.
Ground truth of sandbox faults is never read here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from hexaops.incidents.alerts import AlertTarget
from hexaops.platform.views import ApplicationView
from hexaops.tools.args import parse_duration
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult, run_tool

# Each application's CPU (cores), errors, requests and latency over the window, from the
# counters' growth per pod (one query instead of one metrics_workload call per application).
VITALS_SQL: Final = (
    "SELECT container, "
    "sumIf(d, name = 'container_cpu_usage_seconds_total') / {seconds} AS cpu, "
    "sumIf(d, name = 'http_requests_total' AND code >= '500') AS errors, "
    "sumIf(d, name = 'http_requests_total') AS requests, "
    "sumIf(d, name = 'http_request_duration_seconds_sum') AS latency_sum, "
    "sumIf(d, name = 'http_request_duration_seconds_count') AS latency_count "
    "FROM (SELECT container, pod, name, labels['code'] AS code, max(value) - min(value) AS d "
    "FROM metrics WHERE namespace = '{project}' AND ts >= toDateTime64('{start}', 3) AND name IN "
    "('container_cpu_usage_seconds_total', 'http_requests_total', "
    "'http_request_duration_seconds_sum', 'http_request_duration_seconds_count') "
    "GROUP BY container, pod, name, code) WHERE container != '' GROUP BY container"
)
# CFS throttled periods per second of each container over the window (counters per pod).
THROTTLE_SQL: Final = (
    "SELECT container, sum(d) / {seconds} AS rate FROM (SELECT container, pod, "
    "max(value) - min(value) AS d FROM metrics WHERE name = "
    "'container_cpu_cfs_throttled_periods_total' AND namespace = '{project}' "
    "AND ts >= toDateTime64('{start}', 3) GROUP BY container, pod) GROUP BY container"
)


@dataclass
class Evidence:
    """What the tools said; `calls` records each call (tool, args, status, summary, seconds)."""

    target: AlertTarget
    start: datetime | None = None  # the window's start: older observations are history
    findings: list[dict[str, Any]] = field(default_factory=list)
    # application → cpu_cores, error_pct (5xx share), latency_ms (mean) over the window
    vitals: dict[str, dict[str, float]] = field(default_factory=dict)
    apps: dict[str, ApplicationView] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)  # log templates, errors first
    own_templates: list[dict[str, Any]] = field(default_factory=list)  # the alerting workload's
    throttled: dict[str, float] = field(default_factory=dict)  # container → periods/s
    changes: list[dict[str, Any]] = field(default_factory=list)
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    similar: list[dict[str, Any]] = field(default_factory=list)
    runbooks: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def call(self, ctx: ToolContext, tool: str, args: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        result = run_tool(ctx, tool, args)
        self.calls.append(
            {
                "tool": tool,
                "args": args,
                "status": result.status,
                "summary": result.summary[:400],
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        return result

    def messages(self, own: bool = False) -> list[str]:
        """Log templates and their examples (of the workspace, or of the alerting workload),
        as one list of texts to match on."""
        out = []
        for t in self.own_templates if own else self.templates:
            out.append(str(t.get("template", "")))
            out.extend(str(e) for e in t.get("examples", []))
        return out


def gather(
    ctx: ToolContext, target: AlertTarget, *, since: str = "15m", memory: bool = True
) -> Evidence:
    """Run the evidence tools for an alert's target over the last `since` (vitals: at most
    the last 5 minutes); memory adds similar past incidents."""
    ev = Evidence(target, start=ctx.now() - parse_duration(since))
    ws = {"org": target.org, "workspace": target.workspace}
    recent = since if parse_duration(since) <= parse_duration("5m") else "5m"
    diagnosis = ev.call(ctx, "diagnose", {**ws, "since": since})
    if diagnosis.status == "ok" and isinstance(diagnosis.data, dict):
        ev.findings = list(diagnosis.data.get("findings") or [])
    projects = (
        [target.project]
        if target.project
        else [p.name for p in ctx.platform.projects(ctx.principal, target.workspace, target.org)]
    )
    for project in projects:
        for app in ctx.platform.applications(ctx.principal, target.workspace, project, target.org):
            ev.apps[app.name] = app
        window = parse_duration(recent)
        start = (ctx.now() - window).strftime("%Y-%m-%d %H:%M:%S")
        vitals = ev.call(
            ctx,
            "analytics_sql",
            {
                **ws,
                "sql": VITALS_SQL.format(
                    seconds=window.total_seconds(), project=project, start=start
                ),
            },
        )
        if vitals.status == "ok" and isinstance(vitals.data, dict):
            for name, cpu, errors, requests, latency_s, latencies in vitals.data.get("rows") or []:
                ev.vitals[str(name)] = {
                    "cpu_cores": float(cpu or 0),
                    "error_pct": 100 * float(errors or 0) / max(float(requests or 0), 1.0),
                    "latency_ms": 1000 * float(latency_s or 0) / max(float(latencies or 0), 1.0),
                }
        sql = THROTTLE_SQL.format(seconds=window.total_seconds(), project=project, start=start)
        throttling = ev.call(ctx, "analytics_sql", {**ws, "sql": sql})
        if throttling.status == "ok" and isinstance(throttling.data, dict):
            for name, rate in throttling.data.get("rows") or []:
                if name and rate is not None:
                    ev.throttled[str(name)] = float(rate)
    logs = ev.call(ctx, "logs_summary", {**ws, "since": recent})
    if logs.status == "ok" and isinstance(logs.data, dict):
        ev.templates = list(logs.data.get("templates") or [])
    if target.kind == "Deployment" and target.project:
        own = ev.call(
            ctx,
            "logs_summary",
            {**ws, "project": target.project, "workload": target.name, "since": recent},
        )
        if own.status == "ok" and isinstance(own.data, dict):
            ev.own_templates = list(own.data.get("templates") or [])
    changes = ev.call(ctx, "platform_recent_changes", {**ws, "limit": 20})
    if changes.status == "ok" and isinstance(changes.data, list):
        ev.changes = changes.data
    vulns = ev.call(ctx, "security_vulnerabilities", {**ws, "min_severity": "HIGH"})
    if vulns.status == "ok" and isinstance(vulns.data, list):
        ev.vulnerabilities = vulns.data
    if memory:
        _memory(ctx, ev)
    return ev


def _memory(ctx: ToolContext, ev: Evidence) -> None:
    """Similar past incidents and runbooks: shown with the answer, never used to rank."""
    where = ev.target.name
    similar = ev.call(
        ctx,
        "knowledge_similar_incidents",
        {"description": f"alert on {where} in {ev.target.workspace}", "org": ev.target.org},
    )
    if similar.status == "ok" and isinstance(similar.data, list):
        ev.similar = similar.data[:3]
    elif similar.status == "ok" and isinstance(similar.data, dict):
        ev.similar = list(similar.data.get("incidents") or [])[:3]
