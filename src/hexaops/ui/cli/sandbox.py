"""`hexaops sandbox …`: the simulated platform — fault catalog, injection, clock, ground truth.

Telemetry of `advance` goes to the ClickHouse store (embedded chDB under HEXAOPS_HOME unless
HEXAOPS_CLICKHOUSE_URL is set); `export-openmetrics` writes it out for a Prometheus backfill.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from hexaops.platform.access import memberships, require_workspace
from hexaops.platform.core import Platform
from hexaops.platform.errors import NotFound, PlatformError
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ALL_TENANTS, ClickHouseStore
from hexaops.platform.telemetry.openmetrics import export_openmetrics
from hexaops.settings import load_settings
from hexaops.ui.cli.output import (
    AsUser,
    JsonFlag,
    OrgOption,
    Workspace,
    console,
    emit_json,
    fail,
    platform_session,
)

app = typer.Typer(
    help="The sandbox platform: simulated clock, fault injection with ground truth, telemetry.",
    no_args_is_help=True,
)


@contextmanager
def _store() -> Iterator[ClickHouseStore]:
    try:
        with ClickHouseStore.from_settings(load_settings()) as store:
            yield store
    except PlatformError as exc:
        fail(exc.message)


def _scope(platform: Platform, email: str, workspace: str, org: str | None, permission: str) -> str:
    """The organization of `workspace` as `email` sees it, if `permission` allows."""
    with platform.sessions() as session:
        scope, _ = require_workspace(session, platform.user(email), workspace, org)
        scope.authorize(permission)
        return scope.org.slug


@app.command("faults")
def faults(as_json: JsonFlag = False) -> None:
    """The fault catalog: kinds, what they break, what fixes them."""
    catalog = Simulation.catalog()
    if as_json:
        emit_json(catalog)
        return
    for kind in catalog:
        console.print(
            f"[bold]{kind['kind']}[/bold] ({kind['target']}): {kind['root_cause']}", soft_wrap=True
        )
        console.print(
            f"  symptoms: {', '.join(kind['metrics'] + kind['events'])}; "
            f"fixed by: {', '.join(kind['mitigations'])}",
            soft_wrap=True,
            highlight=False,
        )


@app.command("inject")
def inject(
    kind: Annotated[str, typer.Argument(help="A fault kind from `hexaops sandbox faults`.")],
    workspace: Workspace,
    target: Annotated[str, typer.Option("--target", help="Object at fault (see the catalog).")],
    as_user: AsUser,
    at: Annotated[float, typer.Option("--at", help="Minutes from now (simulated).")] = 0.0,
    org: OrgOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a fault in a workspace (owners and admins of its organization)."""
    with platform_session() as platform:
        slug = _scope(platform, as_user, workspace, org, "sandbox.inject")
        fault_id = Simulation(platform.engine).inject(kind, slug, workspace, target, at)
    if as_json:
        emit_json({"fault_id": fault_id, "kind": kind, "workspace": workspace, "target": target})
    else:
        console.print(f"fault {fault_id}: {kind} on {slug}/{workspace} {target}, in {at:g} min")


@app.command("advance")
def advance(
    minutes: Annotated[float, typer.Option("--minutes", help="Simulated minutes to run.")],
    as_json: JsonFlag = False,
) -> None:
    """Run the simulated clock forward; telemetry goes to the ClickHouse store."""
    with platform_session() as platform, _store() as store:
        if not as_json:
            console.print(f"[dim]simulating {minutes:g} min …[/dim]")
        report = Simulation(platform.engine).advance(minutes, store)
    if as_json:
        emit_json(report.to_json())
        return
    console.print(
        f"now {report.now}: {report.ticks} ticks, {report.samples:,} samples, {report.logs:,} logs, "
        f"{report.events:,} events; faults started {report.activated or '-'}, "
        f"resolved {report.resolved or '-'}",
        soft_wrap=True,
        highlight=False,
    )


@app.command("status")
def status(
    workspace: Workspace, as_user: AsUser, org: OrgOption = None, as_json: JsonFlag = False
) -> None:
    """Nodes, workloads, pods and faults of a workspace as the simulation has them now."""
    with platform_session() as platform:
        slug = _scope(platform, as_user, workspace, org, "read")
        view = Simulation(platform.engine).status(slug, workspace)
    if as_json:
        emit_json(view)
    else:
        _print_status(view)


def _print_status(view: dict[str, Any]) -> None:
    """A `kubectl get`-like summary; --json has every field."""
    console.print(f"[bold]{view['org']}/{view['workspace']}[/bold] at {view['now']}")
    for node in view["nodes"]:
        cordoned = " (cordoned)" if node["cordoned"] else ""
        console.print(f"  node {node['name']}{cordoned}", highlight=False)
    for d in view["deployments"]:
        hpa = d["hpa"]
        scaling = "" if not hpa else f", HPA {hpa['min_replicas']}-{hpa['max_replicas']}"
        console.print(
            f"  deployment {d['namespace']}/{d['name']} {d['image']} rev {d['revision']}: "
            f"{d['ready_replicas']}/{d['replicas']} ready{scaling}",
            soft_wrap=True,
            highlight=False,
        )
        for pod in d["pods"]:
            if not pod["ready"] or pod["restarts"]:
                console.print(
                    f"    pod {pod['name']} {pod['phase']} {pod['reason']} restarts {pod['restarts']}",
                    soft_wrap=True,
                    highlight=False,
                )
    for fn in view["functions"]:
        console.print(f"  function {fn['namespace']}/{fn['name']}", highlight=False)
    for fault in view["faults"]:
        console.print(
            f"  fault {fault.get('id', fault.get('fault_id', ''))} {fault.get('kind', '')} {fault.get('status', '')}",
            highlight=False,
        )


@app.command("truth")
def truth(fault_id: int, as_user: AsUser, as_json: JsonFlag = False) -> None:
    """Ground truth of a fault (for evaluations and tests; never shown to agents)."""
    with platform_session() as platform:
        principal = platform.user(as_user)
        found = Simulation(platform.engine).truth(fault_id)
        with platform.sessions() as session:
            scope = next(
                (s for s in memberships(session, principal) if s.org.slug == found["org"]), None
            )
            if scope is None:  # another organization's fault does not exist for this principal
                raise NotFound(f"fault {fault_id} does not exist")
            scope.authorize("sandbox.truth")
    if as_json:
        emit_json(found)
    else:
        console.print_json(data=found)


@app.command("export-openmetrics")
def export(
    path: Annotated[Path, typer.Argument(help="File to write (OpenMetrics text).")],
    hours: Annotated[float, typer.Option("--hours", help="Simulated hours up to now.")] = 2.0,
    as_json: JsonFlag = False,
) -> None:
    """Write the last H simulated hours of metrics as OpenMetrics for `promtool` backfill."""
    if hours <= 0:
        raise typer.BadParameter("must be positive", param_hint="--hours")
    with platform_session() as platform, _store() as store:
        end = Simulation(platform.engine).now()
        stats = export_openmetrics(store, path, end - timedelta(hours=hours), end, ALL_TENANTS)
    if as_json:
        emit_json({"path": str(path), **vars(stats)})
    else:
        console.print(f"wrote {path}: {stats}")
        console.print(f"backfill: promtool tsdb create-blocks-from openmetrics {path} DATA_DIR")
