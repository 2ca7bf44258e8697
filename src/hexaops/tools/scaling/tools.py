"""Scaling tools: right-size an application or function, predict the effect, request the change.

Reads are scoped by the context's tenancy helpers first (an application of another organization
is "not found"), then read the workspace's telemetry with the tenant bound as a query parameter.
`scaling_apply` never changes anything itself: it requests platform operations through the
action pipeline, which authorizes, plans and applies the approval policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from hexaops.platform.domain import Resources
from hexaops.platform.drivers.contract import HpaSpec
from hexaops.platform.errors import InvalidInput, PlatformError
from hexaops.platform.names import format_cpu, format_memory
from hexaops.platform.views import ApplicationView, FunctionView
from hexaops.tools.args import ToolArgs, Window
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Evidence, Outcome, tool
from hexaops.tools.scaling.concurrency import (
    FunctionRecommendation,
    FunctionSettings,
    FunctionUsage,
    function_usage,
    recommend_function,
    replay_function,
)
from hexaops.tools.scaling.replay import PRICES, replay
from hexaops.tools.scaling.rightsizing import (
    AppUsage,
    Recommendation,
    Settings,
    app_usage,
    recommend_app,
)
from hexaops.tools.scaling.usage import STEP_SECONDS, TelemetryReader


class ScalingTarget(Window):
    """One application or function, and the window of usage to size it from."""

    since: str = Field(
        default="24h", description="How much recent usage to size from, e.g. 6h, 24h, 7d."
    )
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
    workspace: str = Field(description="Workspace (vCluster) of the workload, e.g. acme-prod.")
    project: str = Field(description="Project (namespace) of the workload, e.g. shop.")
    application: str | None = Field(
        default=None, description="Application (Deployment) name; give this or function."
    )
    function: str | None = Field(
        default=None, description="Serverless function name; give this or application."
    )

    @model_validator(mode="after")
    def _one_target(self) -> ScalingTarget:
        if (self.application is None) == (self.function is None):
            raise ValueError("name exactly one of application or function")
        return self


class ProposedSettings(ToolArgs):
    """Settings to evaluate or apply; anything left out keeps its current value."""

    cpu_request: str | None = Field(default=None, description="CPU request per pod, e.g. 300m.")
    cpu_limit: str | None = Field(default=None, description="CPU limit per pod, e.g. 1.")
    memory_request: str | None = Field(default=None, description="Memory request, e.g. 256Mi.")
    memory_limit: str | None = Field(default=None, description="Memory limit, e.g. 512Mi.")
    replicas: int | None = Field(default=None, ge=1, le=1000, description="Fixed replicas.")
    min_replicas: int | None = Field(default=None, ge=1, le=1000, description="HPA minimum.")
    max_replicas: int | None = Field(default=None, ge=1, le=1000, description="HPA maximum.")
    target_cpu_percent: int | None = Field(
        default=None, ge=1, le=100, description="HPA target CPU utilization (% of request)."
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=1000, description="Function: concurrent requests per instance."
    )
    max_instances: int | None = Field(
        default=None, ge=1, le=100, description="Function: instance cap."
    )


class WhatIfArgs(ScalingTarget):
    proposed: Literal["recommended"] | ProposedSettings = Field(
        default="recommended",
        description='Settings to evaluate: "recommended" (what scaling_recommend proposes) or '
        "explicit values.",
    )


class ApplyArgs(WhatIfArgs):
    proposed: Literal["recommended"] | ProposedSettings = Field(
        default="recommended",
        description='Settings to request: "recommended" or explicit values.',
    )
    dry_run: bool = Field(
        default=False, description="Only plan: show what would change, change nothing."
    )


# -- reading -------------------------------------------------------------------------------


class _Subject:
    """The workload a call is about, resolved through the principal's tenancy, and its usage."""

    def __init__(self, ctx: ToolContext, args: ScalingTarget) -> None:
        self.start, self.end = ctx.window(args)
        tenant = ctx.tenant(args.workspace, args.org)
        self.app: ApplicationView | None = None
        self.fn: FunctionView | None = None
        if args.application is not None:
            self.app = ctx.application(args.workspace, args.project, args.application, args.org)
            view: ApplicationView | FunctionView = self.app
        else:
            assert args.function is not None
            self.fn = ctx.function(args.workspace, args.project, args.function, args.org)
            view = self.fn
        self.target = f"{view.org}/{view.workspace}/{view.project}/{view.name}"
        self.reader = TelemetryReader(ctx.telemetry(), tenant, ctx.timeout_seconds)
        self.objects = [
            Evidence(
                kind="object",
                backend="platform",
                objects=[
                    f"{self.target.rsplit('/', 1)[0]}/"
                    f"{'Application' if self.app else 'Function'}/{view.name}"
                ],
            )
        ]

    @property
    def evidence(self) -> list[Evidence]:
        return [*self.reader.evidence, *self.objects]

    def app_usage(self) -> tuple[AppUsage, Settings]:
        assert self.app is not None
        current = Settings.of(self.app)
        ns, name = self.app.project, self.app.name
        pods = self.reader.pods(ns, name, self.start, self.end)
        workload = self.reader.workload(ns, name, self.start, self.end)
        return app_usage(pods, workload, current), current

    def function_usage(self) -> tuple[FunctionUsage, FunctionSettings]:
        assert self.fn is not None
        grid = self.reader.function(self.fn.project, self.fn.name, self.start, self.end)
        return function_usage(grid), FunctionSettings.of(self.fn)

    def window(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}

    def nothing(self) -> Outcome:
        return Outcome(
            f"no usage of {self.target} recorded between {_iso(self.start)} and "
            f"{_iso(self.end)}: nothing to size from (is it running? try a longer since)",
            evidence=self.evidence,
            empty=True,
        )


def _minutes(steps: NDArray[np.int64]) -> float:
    return round(float(steps[-1] - steps[0]) * STEP_SECONDS / 60, 1) if steps.size else 0.0


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _explicit_app(current: Settings, p: ProposedSettings) -> Settings:
    r = current.resources.describe()
    try:
        resources = Resources.parse(
            p.cpu_request or r["cpu_request"],
            p.memory_request or r["memory_request"],
            p.cpu_limit or r["cpu_limit"],
            p.memory_limit or r["memory_limit"],
        )
    except PlatformError as exc:
        raise InvalidInput(f"proposed resources: {exc.message}") from None
    hpa = current.hpa
    if any(v is not None for v in (p.min_replicas, p.max_replicas, p.target_cpu_percent)):
        base = hpa or HpaSpec(min_replicas=1, max_replicas=1, target_cpu_percent=70)
        hpa = HpaSpec(
            min_replicas=p.min_replicas or base.min_replicas,
            max_replicas=p.max_replicas or max(base.max_replicas, p.min_replicas or 1),
            target_cpu_percent=p.target_cpu_percent or base.target_cpu_percent,
        )
        if hpa.min_replicas > hpa.max_replicas:
            raise InvalidInput("proposed min_replicas must not be greater than max_replicas")
    return Settings(resources, p.replicas or current.replicas, hpa)


def _explicit_function(current: FunctionSettings, p: ProposedSettings) -> FunctionSettings:
    return FunctionSettings(
        p.concurrency or current.concurrency,
        p.max_instances or current.max_instances,
        current.memory_bytes,
    )


def _recommendation_json(rec: Recommendation[Settings] | FunctionRecommendation) -> dict[str, Any]:
    return {
        "flags": rec.flags,
        "changes": rec.changes(),
        "proposed": rec.proposed.describe(),
        "current": rec.current.describe(),
        "rationale": rec.rationale,
        "evidence": rec.usage,
    }


def _value_text(value: Any) -> str:
    if isinstance(value, dict):  # an HPA
        return f"{value['min_replicas']}–{value['max_replicas']} at {value['target_cpu_percent']}%"
    return "none" if value is None else str(value)


def _change_text(changes: dict[str, dict[str, Any]]) -> str:
    if not changes:
        return "no change needed"
    return "; ".join(
        f"{k} {_value_text(v['from'])} → {_value_text(v['to'])}" for k, v in changes.items()
    )


# -- tools ---------------------------------------------------------------------------------


@tool("scaling_recommend", "scaling")
def scaling_recommend(ctx: ToolContext, args: ScalingTarget) -> Outcome:
    """Right-size an application (CPU/memory requests and limits, replicas, HPA min/max/target)
    or a function (concurrency per instance, max instances) from its usage percentiles over a
    window (default 24h): CPU used and wanted (throttling), memory working set, OOM kills,
    restarts, replica history and HPA time at max. Returns current and proposed settings, the
    changes, flags (e.g. "at max replicas for 40% of the window", "never scales", a memory leak),
    the rule behind each number, and the usage it came from. Use it before scaling_whatif or
    scaling_apply; it changes nothing."""
    subject = _Subject(ctx, args)
    if subject.app is not None:
        usage, current = subject.app_usage()
        if usage.empty:
            return subject.nothing()
        rec: Recommendation[Settings] | FunctionRecommendation = recommend_app(usage, current)
        kind = "application"
    else:
        fusage, fcurrent = subject.function_usage()
        if fusage.empty:
            return subject.nothing()
        rec, kind = recommend_function(fusage, fcurrent), "function"
    data = {"target": subject.target, "kind": kind, "window": subject.window()}
    data |= _recommendation_json(rec)
    flags = f" Flags: {'; '.join(data['flags'])}." if data["flags"] else ""
    return Outcome(
        f"{subject.target}: {_change_text(rec.changes())}.{flags}", data, subject.evidence
    )


@tool("scaling_whatif", "scaling")
def scaling_whatif(ctx: ToolContext, args: WhatIfArgs) -> Outcome:
    """Predict what other settings would have done over the recorded window (default 24h):
    replays the workload's recorded load (requests per second, CPU wanted, memory working sets)
    through the sandbox's pod runtime model, with the current settings and with the proposed
    ones ("recommended" or explicit values), and reports side by side: CPU throttling, OOM
    kills, replica-hours, p95 latency and the cost of the requests (for functions: 429
    rejections, instance-hours, cost). Deterministic; changes nothing."""
    subject = _Subject(ctx, args)
    prices: dict[str, Any] = dict(PRICES)
    if subject.app is not None:
        usage, current = subject.app_usage()
        if usage.empty:
            return subject.nothing()
        if args.proposed == "recommended":
            proposed = recommend_app(usage, current).proposed
        else:
            proposed = _explicit_app(current, args.proposed)
        before, after = replay(usage, current, current), replay(usage, current, proposed)
        b, a = before.to_json(), after.to_json()
        summary = (
            f"{subject.target}, replaying {_minutes(usage.steps):g} min of recorded load "
            f"({subject.window()['start']}–{subject.window()['end']}): "
            f"CPU throttled {b['cpu_throttled_share']:.1%} → {a['cpu_throttled_share']:.1%}, "
            f"OOM kills {b['oom_kills']} → {a['oom_kills']}, replica-hours "
            f"{b['replica_hours']} → {a['replica_hours']}, cost ${b['cost_usd']:.4f} → "
            f"${a['cost_usd']:.4f}"
        )
        if b["p95_latency_seconds"] is not None and a["p95_latency_seconds"] is not None:
            summary += f", p95 latency {b['p95_latency_seconds']}s → {a['p95_latency_seconds']}s"
    else:
        fusage, fcurrent = subject.function_usage()
        if fusage.empty:
            return subject.nothing()
        if args.proposed == "recommended":
            fproposed = recommend_function(fusage, fcurrent).proposed
        else:
            fproposed = _explicit_function(fcurrent, args.proposed)
        b = replay_function(fusage, fcurrent, fcurrent)
        a = replay_function(fusage, fcurrent, fproposed)
        prices = {"memory_gib_hour_usd": PRICES["memory_gib_hour_usd"]}
        summary = (
            f"{subject.target}: 429 rejections {b['rejected_429']} → {a['rejected_429']}, "
            f"instance-hours {b['instance_hours']} → {a['instance_hours']}, cost "
            f"${b['cost_usd']:.4f} → ${a['cost_usd']:.4f}"
        )
    data = {
        "target": subject.target,
        "window": subject.window(),
        "current": b,
        "proposed": a,
        "prices": prices,
        "model": "replay of the recorded load through the sandbox pod runtime "
        "(hexaops.tools.scaling.replay documents the assumptions)",
    }
    return Outcome(summary, data, subject.evidence)


def _app_requests(
    app: ApplicationView, current: Settings, proposed: Settings
) -> list[tuple[str, dict[str, Any]]]:
    where = {"org": app.org, "workspace": app.workspace, "project": app.project, "name": app.name}
    requests: list[tuple[str, dict[str, Any]]] = []
    if proposed.hpa is not None and proposed.hpa != current.hpa:
        requests.append(("application.set_hpa", where | proposed.hpa.model_dump()))
    replicas = None if proposed.hpa is not None else proposed.replicas
    if proposed.resources != current.resources or (
        replicas is not None and replicas != current.replicas
    ):
        r = proposed.resources
        params: dict[str, Any] = where | {
            "image": app.image,
            "cpu_request": format_cpu(r.cpu_request_millis),
            "cpu_limit": format_cpu(r.cpu_limit_millis),
            "memory_request": format_memory(r.memory_request_bytes),
            "memory_limit": format_memory(r.memory_limit_bytes),
        }
        if replicas is not None:
            params["replicas"] = replicas
        requests.append(("application.deploy", params))
    return requests


@tool("scaling_apply", "scaling", writes=True)
def scaling_apply(ctx: ToolContext, args: ApplyArgs) -> Outcome:
    """Request the scaling change for an application or function: new requests/limits
    (application.deploy of the running image), HPA bounds and target (application.set_hpa), or
    function concurrency and max instances (function.set_scaling) — the recommended settings, or
    explicit ones. It only requests platform actions: the action pipeline authorizes them and
    applies the approval policy (an action may wait for an owner or admin). Returns the actions
    with their status. Run scaling_recommend / scaling_whatif first and confirm with the user."""
    subject = _Subject(ctx, args)
    requests: list[tuple[str, dict[str, Any]]]
    if subject.app is not None:
        current = Settings.of(subject.app)
        if args.proposed == "recommended":
            usage, _ = subject.app_usage()
            if usage.empty:
                return subject.nothing()
            proposed = recommend_app(usage, current).proposed
        else:
            proposed = _explicit_app(current, args.proposed)
        requests = _app_requests(subject.app, current, proposed)
    else:
        fn = subject.fn
        assert fn is not None
        fcurrent = FunctionSettings.of(fn)
        if args.proposed == "recommended":
            fusage, _ = subject.function_usage()
            if fusage.empty:
                return subject.nothing()
            fproposed = recommend_function(fusage, fcurrent).proposed
        else:
            fproposed = _explicit_function(fcurrent, args.proposed)
        requests = []
        if fproposed != fcurrent:
            where = {"org": fn.org, "workspace": fn.workspace, "project": fn.project}
            requests.append(
                ("function.set_scaling", where | {"name": fn.name, **fproposed.describe()})
            )
    if not requests:
        return Outcome(
            f"{subject.target} already runs the proposed settings: nothing to request",
            {"target": subject.target, "actions": []},
            subject.evidence,
            empty=True,
        )
    if args.dry_run and len(requests) > 1:
        # An approval decides one platform action: a change that needs two is requested as two.
        kinds = " and ".join(kind for kind, _ in requests)
        raise InvalidInput(
            f"{subject.target}: this change needs two platform actions ({kinds}); request them "
            "one at a time: the autoscaler with explicit min_replicas/max_replicas/"
            "target_cpu_percent, the resources with explicit requests and limits"
        )
    actions: list[dict[str, Any]] = []
    for n, (kind, params) in enumerate(requests, start=1):
        try:
            view = ctx.platform.request(
                ctx.principal, kind, params, idempotency_key=ctx.action_key(n), dry_run=args.dry_run
            )
        except PlatformError as exc:
            if not actions:
                raise
            actions.append({"operation": kind, "status": "refused", "error": exc.message})
            continue
        actions.append(view.model_dump(mode="json", exclude={"plan"}) | {"plan": view.plan})
    evidence = [
        *subject.evidence,
        Evidence(
            kind="action",
            backend="platform",
            objects=[str(a["id"]) for a in actions if a.get("id") is not None],
        ),
    ]
    summary = f"{subject.target}: " + "; ".join(
        f"{a['operation']} {a['status']}" + (f" (action {a['id']})" if a.get("id") else "")
        for a in actions
    )
    if args.dry_run:
        summary = f"planned (dry run: nothing changed) — {summary}"
    data: dict[str, Any] = {"target": subject.target, "actions": actions}
    if len(requests) == 1:  # the one action, as the approvals read a write's result
        data["action"] = actions[0]
    return Outcome(summary, data, evidence)
