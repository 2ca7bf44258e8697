"""`hexaops demo`: the embedded demo platform, seeded, with its state printed per organization."""

from __future__ import annotations

from hexaops.platform.domain import Role
from hexaops.platform.seed import ORGS, seed
from hexaops.settings import load_settings
from hexaops.ui.cli.output import JsonFlag, console, emit_json, platform_session
from hexaops.ui.cli.platform import print_overview


def demo(as_json: JsonFlag = False) -> None:
    """Seed the embedded platform (idempotent) and print what each organization's owner sees."""
    settings = load_settings()
    with platform_session() as platform:
        report = seed(platform)
        owners = [
            next(e for e, r in o["members"].items() if r is Role.OWNER) for o in ORGS.values()
        ]
        views = {email: platform.overview(platform.user(email)) for email in owners}
    if as_json:
        emit_json({"created": report.created, "existing": report.existing, "platform": views})
        return
    where = (settings.database_url and "DATABASE_URL") or f"embedded PostgreSQL in {settings.home}"
    console.print(f"[bold]hexaops demo[/bold] — {settings.driver} driver, {where}")
    console.print(f"seed: {len(report.created)} created, {len(report.existing)} already present\n")
    for email, tree in views.items():
        console.print(f"[dim]as {email}:[/dim]")
        print_overview(tree)
        console.print()
    for hint in (
        "hexaops platform workspace list --as dev@acme.example",
        "hexaops platform app scale -w acme-staging -p shop -n checkout --replicas 3 --as dev@acme.example",
        "hexaops platform workspace delete -n acme-staging --as owner@acme.example  (waits for approval)",
        "hexaops platform actions list --status pending --as owner@acme.example",
    ):
        console.print(f"  try: {hint}", soft_wrap=True, highlight=False)
