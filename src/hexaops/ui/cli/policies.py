"""`hexaops policies …`: an organization's automation policy — what remediation may run
without a person (allow-listed operations with bounds; never deletes but a pod's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs

from hexaops.incidents import policies
from hexaops.platform.errors import InvalidInput
from hexaops.ui.cli.output import AsUser, JsonFlag, acting, console, emit_json, fail

app = typer.Typer(
    help="Automation policies: what incident remediation may do on its own.", no_args_is_help=True
)
Org = Annotated[str, typer.Option("--org", help="Organization slug.")]


@app.command()
def show(org: Org, as_user: AsUser, as_json: JsonFlag = False) -> None:
    """The organization's policy (any member may read it)."""
    with acting(as_user) as (platform, principal):
        policy = policies.show(platform, principal, org)
    if as_json:
        emit_json(policy)
        return
    if policy is None:
        console.print(
            f"{org} has no automation policy: every remediation waits for an owner or admin."
        )
        console.print("Example (hexaops policies set --org ORG --file policy.yaml):")
        print(yaml.safe_dump(policies.EXAMPLE, sort_keys=False), end="")
        return
    print(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False), end="")


@app.command("set")
def set_(
    org: Org,
    as_user: AsUser,
    file: Annotated[Path | None, typer.Option("--file", help="Policy as YAML or JSON.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the policy.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Store the organization's policy (owner or admin)."""
    if (file is None) == (not clear):
        fail("give --file FILE or --clear", 2)
    with acting(as_user) as (platform, principal):
        policy = None
        if file is not None:
            try:
                document = yaml.safe_load(file.read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise InvalidInput(f"cannot read a policy from {file}: {exc}") from None
            policy = policies.parse(org, document)
        stored = policies.set_policy(platform, principal, org, policy)
    if as_json:
        emit_json(stored)
    else:
        console.print(f"{org}: policy {'removed' if stored is None else stored.name + ' stored'}")
