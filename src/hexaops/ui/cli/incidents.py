"""`hexaops incidents …`: alerts in, investigated and remediated incidents out.

`trigger` takes Alertmanager alerts (a webhook body, a list, or one alert) or raises the alert
a sandbox fault would raise, runs intake (dedupe, grouping) and remediates each new incident:
investigation → policy-bounded fix → verified recovery → incident memory. Plans outside the
organization's automation policy wait: `approve` / `reject` them as an owner or admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs

from hexaops.incidents import postmortem, store
from hexaops.incidents.alerts import Alert, parse_alerts
from hexaops.incidents.faults import alert_for_fault
from hexaops.incidents.intake import ingest
from hexaops.incidents.workflow import Remediator
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput, NotFound, PlatformError
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import load_settings
from hexaops.ui.cli.output import AsUser, JsonFlag, acting, console, emit_json, fail

app = typer.Typer(
    help="Alert-driven incidents: investigate, remediate, verify, record.", no_args_is_help=True
)


@contextmanager
def _remediator(platform: Platform) -> Iterator[Remediator]:
    settings = load_settings()
    with (
        ClickHouseStore.from_settings(settings) as telemetry,
        Remediator(platform, settings, resources={"telemetry": telemetry}) as worker,
    ):
        yield worker


def _read_alerts(path: Path) -> list[Alert]:
    try:
        text = path.read_text() if str(path) != "-" else typer.get_text_stream("stdin").read()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise InvalidInput(f"{path} is neither JSON nor YAML") from None
    return parse_alerts(document)


def _fault_alert(platform: Platform, principal: Principal, fault_id: int) -> Alert:
    from hexaops.platform.sandbox import Simulation

    sim = Simulation(platform.engine)
    fault = sim.truth(fault_id)
    roles = {o.slug: o.role for o in platform.organizations(principal)}
    if fault["org"] not in roles:
        raise NotFound(f"fault {fault_id} does not exist")
    if roles[fault["org"]] not in ("owner", "admin"):
        raise InvalidInput(f"raising a fault's alert needs owner or admin in {fault['org']}")
    apps = [
        (p.name, a.name)
        for p in platform.projects(principal, fault["workspace"], fault["org"])
        for a in platform.applications(principal, fault["workspace"], p.name, fault["org"])
    ]
    return alert_for_fault(fault, sim.now(), apps)


@app.command()
def trigger(
    as_user: AsUser,
    alert_file: Annotated[
        Path | None,
        typer.Option("--alert-file", help="Alertmanager webhook JSON/YAML ('-': stdin)."),
    ] = None,
    from_fault: Annotated[
        int | None,
        typer.Option("--from-fault", help="Raise the alert this sandbox fault would raise."),
    ] = None,
    remediate: Annotated[
        bool, typer.Option(help="Investigate and remediate new incidents.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Take alerts: dedupe, group into incidents, remediate the new ones."""
    if (alert_file is None) == (from_fault is None):
        fail("give exactly one of --alert-file FILE or --from-fault FAULT_ID", 2)
    with acting(as_user) as (platform, principal):
        try:
            alerts = (
                _read_alerts(alert_file)
                if alert_file
                else [_fault_alert(platform, principal, from_fault or 0)]
            )
            mine = {o.slug for o in platform.organizations(principal)}
            for alert in alerts:
                org = alert.labels.get("org") or alert.labels.get("organization")
                if org and org not in mine:
                    raise NotFound(f"alert {alert.name}: organization {org!r} not found")
            report = ingest(platform, alerts)
            runs = []
            if remediate and report.opened:
                with _remediator(platform) as worker:
                    runs = [worker.run(i).to_json() for i in report.opened]
        except PlatformError as exc:
            fail(exc.message)
    if as_json:
        emit_json({"alerts": [r.to_json() for r in report.results], "incidents": runs})
        return
    for r in report.results:
        where = f" → incident {r.incident_id}" if r.incident_id else ""
        note = f" ({r.note})" if r.note else ""
        console.print(f"{r.alertname} [{r.fingerprint}]: [bold]{r.outcome}[/bold]{where}{note}")
    for run in runs:
        hint = (
            f" — approve: hexaops incidents approve {run['incident_id']} --as EMAIL"
            if run["waiting"]
            else ""
        )
        console.print(f"incident {run['incident_id']}: [bold]{run['status']}[/bold]{hint}")


@app.command("list")
def list_(
    as_user: AsUser,
    org: Annotated[str | None, typer.Option("--org", help="Only this organization.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only incidents in this status.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Incidents of your organizations, newest first."""
    with acting(as_user) as (platform, principal):
        rows = store.listing(platform, principal, org=org, status=status)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("[dim]no incidents[/dim]")
    for r in rows:
        console.print(
            f"{r['id']:>4}  {r['status']:<18} {r['severity']:<8} {r['org']}/{r['workspace']}  {r['title']}"
        )


@app.command()
def show(incident_id: int, as_user: AsUser, as_json: JsonFlag = False) -> None:
    """One incident: root cause, hypotheses, plan, alerts and timeline."""
    with acting(as_user) as (platform, principal):
        record = store.detail(platform, principal, incident_id)
    if as_json:
        emit_json(record)
        return
    console.print(f"[bold]incident {record['id']}[/bold] {record['title']} — {record['status']}")
    console.print(f"root cause: {record['root_cause'] or 'not determined'}")
    console.print(f"mitigation: {record['mitigation'] or 'none'}")
    for e in record["timeline"]:
        console.print(f"  {e['at']}  {e['kind']:<12} {e['summary']}", markup=False)


@app.command("postmortem")
def postmortem_(
    incident_id: int,
    as_user: AsUser,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file.")
    ] = None,
) -> None:
    """The incident's postmortem in Markdown."""
    with acting(as_user) as (platform, principal):
        text = postmortem.render(store.detail(platform, principal, incident_id))
    if output is None:
        print(text, end="")
    else:
        output.write_text(text)
        console.print(f"wrote {output}")


def _decide(
    incident_id: int, email: str, decision: Literal["approve", "reject"], note: str, as_json: bool
) -> None:
    with acting(email) as (platform, principal), _remediator(platform) as worker:
        result = worker.decide(incident_id, principal, decision, note)
    _emit_run(result.to_json(), as_json)


def _emit_run(run: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(run)
    else:
        console.print(f"incident {run['incident_id']}: [bold]{run['status']}[/bold]")


Note = Annotated[str, typer.Option("--note", help="Why (kept in the timeline).")]


@app.command()
def approve(incident_id: int, as_user: AsUser, note: Note = "", as_json: JsonFlag = False) -> None:
    """Approve the remediation plan of an incident that waits (owner or admin)."""
    _decide(incident_id, as_user, "approve", note, as_json)


@app.command()
def reject(incident_id: int, as_user: AsUser, note: Note = "", as_json: JsonFlag = False) -> None:
    """Reject the plan: nothing is changed, the incident is escalated to people."""
    _decide(incident_id, as_user, "reject", note, as_json)


@app.command()
def resume(incident_id: int, as_user: AsUser, as_json: JsonFlag = False) -> None:
    """Resume an incident's remediation after a worker stopped (executed actions never rerun)."""
    with acting(as_user) as (platform, principal):
        store.visible(platform, principal, incident_id)
        with _remediator(platform) as worker:
            result = worker.run(incident_id)
    _emit_run(result.to_json(), as_json)
