"""Security tools: configuration scan, vulnerabilities ranked by exposure, image bumps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hexaops.platform.errors import InvalidInput
from hexaops.tools.args import OrgArg
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import BackendUnavailable, Evidence, Outcome, tool
from hexaops.tools.security import exposure, sources
from hexaops.tools.security.render import render
from hexaops.tools.security.reports import repository_of
from hexaops.tools.security.trivy import SEVERITY_RANK, misconfigurations, run_config_scan

Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"]


class ConfigScanArgs(OrgArg):
    workspace: str = Field(description="Workspace whose workloads to scan.")
    project: str | None = Field(default=None, description="Only this project; default: all.")
    min_severity: Severity = Field(
        default="LOW", description="Leave out findings below this severity."
    )


@tool("security_config_scan", "security")
def config_scan(ctx: ToolContext, args: ConfigScanArgs) -> Outcome:
    """Scan the Kubernetes manifests of a workspace's workloads (Deployments, HPAs, as the
    platform applies them) for misconfigurations with `trivy config`: containers that may run
    as root, no securityContext, writable root filesystem, privilege escalation… Returns the
    failed checks, most severe first, each with the objects it failed on and how to fix it.
    Use it for "is this workspace's configuration secure/hardened?"."""
    apps = sources.applications(ctx, args.workspace, args.project, None, args.org)
    scope = f"{args.workspace}/{args.project}" if args.project else args.workspace
    if not apps:
        return Outcome(f"no applications to scan in {scope}", [], empty=True)
    objects = render(apps)
    report = run_config_scan(objects, ctx.timeout_seconds)
    floor = SEVERITY_RANK[args.min_severity]
    checks = [c for c in misconfigurations(report, objects) if SEVERITY_RANK[c.severity] >= floor]
    evidence = [
        Evidence(
            kind="scan",
            backend="trivy",
            query=f"trivy config --skip-check-update --format json ({len(objects)} manifests)",
            objects=[o.object_id for o in objects],
        )
    ]
    if not checks:
        return Outcome(
            f"no misconfigurations of {args.min_severity} or above in {scope} "
            f"({len(objects)} objects scanned)",
            [],
            evidence,
            empty=True,
        )
    by_severity = {s: sum(c.severity == s for c in checks) for s in SEVERITY_RANK}
    counted = ", ".join(f"{n} {s}" for s, n in by_severity.items() if n)
    top = checks[0]
    data = [
        {
            "id": c.id,
            "severity": c.severity,
            "title": c.title,
            "resolution": c.resolution,
            "objects": list(dict.fromkeys(o["object"] for o in c.objects)),
            "message": c.objects[0]["message"] if c.objects else "",
        }
        for c in checks
    ]
    return Outcome(
        f"{len(checks)} failed checks in {scope} ({counted}) across {len(objects)} objects; "
        f"worst: {top.id} {top.title} on {len({o['object'] for o in top.objects})} object(s)",
        data,
        evidence,
    )


class VulnerabilitiesArgs(OrgArg):
    workspace: str | None = Field(
        default=None, description="Only this workspace; default: all of the organization's."
    )
    project: str | None = Field(default=None, description="Only this project (give workspace).")
    application: str | None = Field(
        default=None, description="Only this application (give workspace and project)."
    )
    min_severity: Severity = Field(
        default="LOW", description="Leave out vulnerabilities below this severity."
    )


@tool("security_vulnerabilities", "security")
def vulnerabilities(ctx: ToolContext, args: VulnerabilitiesArgs) -> Outcome:
    """Known vulnerabilities (CVEs) of the images your applications run, from Trivy image
    reports and the cluster's trivy-operator VulnerabilityReports, ranked by exposure: CVSS
    times factors of the workload (running, replicas, internet facing, may run as root, in an
    active incident), each factor shown with its fact. Grouped by image, with the package
    upgrade that resolves the most findings. Use it for "which vulnerabilities matter most
    now?" and before proposing an image bump."""
    apps = sources.applications(ctx, args.workspace, args.project, args.application, args.org)
    scope = "/".join(p for p in (args.workspace, args.project, args.application) if p) or (
        ctx.organization(args.org)
    )
    if not apps:
        return Outcome(f"no applications in {scope}", [], empty=True)
    workloads, state_notes = sources.workloads(ctx, apps)
    found = sources.vulnerabilities(ctx, workloads)
    if not found.read:  # no source answered: "no vulnerabilities" would be a false all-clear
        raise BackendUnavailable(
            f"no vulnerability report could be read for {scope}: {'; '.join(found.notes)}"
        )
    floor = SEVERITY_RANK[args.min_severity]
    kept = [v for v in found.vulnerabilities if SEVERITY_RANK[v.severity] >= floor]
    groups = exposure.rank(workloads, kept)
    evidence = [
        Evidence(
            kind="scan",
            backend="trivy",
            query="; ".join(found.read) or "no report source configured",
            end=ctx.now(),  # reports as of now
            objects=sorted({w.id for w in workloads}),
        )
    ]
    notes = [*found.notes, *state_notes]
    said = f" (note: {'; '.join(notes)})" if notes else ""
    if not groups:
        return Outcome(
            f"no known vulnerabilities of {args.min_severity} or above in the images of "
            f"{len(apps)} application(s) in {scope}{said}",
            [],
            evidence,
            empty=True,
        )
    top = groups[0]
    fix = top["recommended_fix"]
    fix_text = (
        f"; upgrading {fix['package']} to {fix['upgrade_to']} resolves "
        f"{len(fix['resolves'])} of its {len(top['vulnerabilities'])} findings"
        if fix
        else "; no fixed version published yet"
    )
    total = sum(len(g["vulnerabilities"]) for g in groups)
    exposed = sum(len(g["workloads"]) for g in groups)
    return Outcome(
        f"{total} vulnerabilities in {len(groups)} image(s) run by {exposed} workload(s) of "
        f"{scope}; most urgent: "
        f"{top['image']} (score {top['score']}, {top['vulnerabilities'][0]['id']} "
        f"{top['vulnerabilities'][0]['severity']}, in {top['scored_in']}){fix_text}{said}",
        groups,
        evidence,
    )


class ImageBumpArgs(OrgArg):
    workspace: str = Field(description="Workspace of the application.")
    project: str = Field(description="Project of the application.")
    application: str = Field(description="Application whose image to bump.")
    tag: str = Field(
        pattern=r"^[\w][\w.-]{0,127}$",
        description="The patched tag of the same image repository, e.g. 1.4.3: one whose "
        "packages include the fixed versions security_vulnerabilities recommends.",
    )
    dry_run: bool = Field(
        default=False, description="Only plan: show what would change, change nothing."
    )


@tool("security_propose_image_bump", "security", writes=True)
def propose_image_bump(ctx: ToolContext, args: ImageBumpArgs) -> Outcome:
    """Propose rolling an application out on a patched tag of the image it runs (same
    repository, same replicas and resources) to resolve vulnerabilities. It requests an
    `application.deploy` action through the platform's action pipeline: policy decides
    whether it runs at once or waits for an owner's or admin's approval; the result says
    which. It never changes the cluster directly."""
    app = ctx.application(args.workspace, args.project, args.application, args.org)
    image = f"{repository_of(app.image)}:{args.tag}"
    if image == app.image:
        raise InvalidInput(f"{app.name} already runs {image}: pick the patched tag")
    params = {
        "org": app.org,
        "workspace": app.workspace,
        "project": app.project,
        "name": app.name,
        "image": image,
        "replicas": app.replicas,
        **{k: str(v) for k, v in app.resources.items()},
    }
    action = ctx.platform.request(
        ctx.principal,
        "application.deploy",
        params,
        idempotency_key=ctx.action_key(),
        dry_run=args.dry_run,
    )
    if args.dry_run:
        state = "planned (dry run: nothing changed)"
    elif action.status == "pending":
        state = "waits for approval by an owner or admin"
    elif action.approved_by:
        state = f"{action.status} (approved by {action.approved_by})"
    else:
        state = action.status
    return Outcome(
        f"{'planned' if args.dry_run else 'requested'} application.deploy of "
        f"{app.org}/{app.workspace}/{app.project}/{app.name}: "
        f"{app.image} → {image}; action #{action.id} {state}",
        {"from_image": app.image, "to_image": image, "action": action.model_dump(mode="json")},
        [Evidence(kind="action", backend="platform", objects=[f"action/{action.id}"])],
    )
