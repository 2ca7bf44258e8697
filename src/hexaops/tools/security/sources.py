"""Where the security tools read from: the workloads the principal may see (with their state
now) and the vulnerability reports about the images they run.

Reports come from the Trivy JSON reports directory and from the cluster's trivy-operator
VulnerabilityReports (the workspace's vCluster under the kubernetes driver; the sandbox's
simulated scanner under the sandbox driver). Only reports about images a visible application
runs are ever read into a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from kubernetes.client import CustomObjectsApi
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from hexaops.platform.drivers.contract import NamespaceRef, ObservedEvent, WorkloadRef
from hexaops.platform.errors import DriverError, InvalidInput, PlatformError
from hexaops.platform.sandbox.vulnerabilities import (
    REPORT_GROUP,
    REPORT_VERSION,
    vulnerability_reports,
)
from hexaops.platform.views import ApplicationView
from hexaops.tools.context import ToolContext
from hexaops.tools.security.render import deployment, object_id, privileged, runs_as_root
from hexaops.tools.security.reports import (
    ImageVulnerability,
    from_vulnerability_report,
    normalize_image,
    read_reports_dir,
    report_image,
)

INCIDENT_WINDOW: Final = timedelta(minutes=15)  # warning events this recent mean "now"


@dataclass
class Workload:
    """An application and what makes a vulnerability in it more or less urgent right now."""

    app: ApplicationView
    image: str  # normalized
    ready: int | None  # ready pods now; None when the cluster could not say
    replicas: int
    warnings: list[str] = field(default_factory=list)  # recent Warning event reasons
    root: bool = True
    privileged: bool = False

    @property
    def id(self) -> str:
        return object_id(self.app, "Deployment")


@dataclass
class Sources:
    vulnerabilities: list[ImageVulnerability]
    read: list[str]  # what was read, for the evidence
    notes: list[str]  # sources that could not be read, said in the summary


def applications(
    ctx: ToolContext,
    workspace: str | None,
    project: str | None,
    application: str | None,
    org: str | None,
) -> list[ApplicationView]:
    """The visible applications in scope (NotFound for a workspace/project/app not visible)."""
    if application is not None:
        if workspace is None or project is None:
            raise InvalidInput("name the workspace and project of the application too")
        return [ctx.application(workspace, project, application, org)]
    if project is not None:
        if workspace is None:
            raise InvalidInput("name the workspace of the project too")
        p = ctx.project(workspace, project, org)
        return ctx.platform.applications(ctx.principal, p.workspace, p.name, p.org)
    spaces = [ctx.workspace(workspace, org)] if workspace is not None else ctx.workspaces(org)
    apps: list[ApplicationView] = []
    for ws in spaces:
        for p in ctx.platform.projects(ctx.principal, ws.name, ws.org):
            apps.extend(ctx.platform.applications(ctx.principal, ws.name, p.name, ws.org))
    return apps


def workloads(ctx: ToolContext, apps: list[ApplicationView]) -> tuple[list[Workload], list[str]]:
    """Each application with its pods and recent warnings as the cluster reports them now."""
    driver = ctx.platform.driver
    since = ctx.now() - INCIDENT_WINDOW
    events: dict[tuple[str, str, str], list[ObservedEvent]] = {}
    notes: list[str] = []
    found = []
    for app in apps:
        manifest = deployment(app)
        w = Workload(
            app,
            normalize_image(app.image),
            None,
            app.replicas,
            root=runs_as_root(manifest),
            privileged=privileged(manifest),
        )
        ref = WorkloadRef(
            org=app.org, workspace=app.workspace, namespace=app.project, name=app.name
        )
        try:
            observed = driver.get_application(ref)
            key = (app.org, app.workspace, app.project)
            if key not in events:
                events[key] = driver.list_events(ref.namespace_ref, since=since)
        except PlatformError as exc:
            notes.append(f"state of {w.id} unknown ({exc.message})")
            found.append(w)
            continue
        if observed is not None:
            w.ready, w.replicas = observed.ready_replicas, observed.replicas
        w.warnings = sorted(
            {
                e.reason
                for e in events[key]
                if e.type == "Warning" and (e.name == app.name or e.name.startswith(f"{app.name}-"))
            }
        )
        found.append(w)
    return found, notes


def _cluster_reports(ctx: ToolContext, ref: NamespaceRef) -> list[dict[str, Any]]:
    """The VulnerabilityReports of one project namespace."""
    driver = ctx.platform.driver
    if driver.name == "sandbox":
        return vulnerability_reports(
            ctx.platform.engine, ref.org, ref.workspace, ref.namespace, ctx.now()
        )
    if driver.name != "kubernetes":
        return []
    # Imported here: the kubernetes client takes a second to import and the sandbox never needs it.
    from hexaops.platform.drivers.kubernetes import KubernetesDriver

    if not isinstance(driver, KubernetesDriver):
        return []
    return list_vulnerability_reports(
        driver.custom_objects(ref), ref.namespace, ctx.timeout_seconds
    )


def list_vulnerability_reports(
    custom: CustomObjectsApi, namespace: str, timeout: float
) -> list[dict[str, Any]]:
    """trivy-operator's VulnerabilityReports in `namespace`; DriverError (with what to do)
    when the CRD is missing or the API server fails or does not answer in time."""
    try:
        listing = custom.list_namespaced_custom_object(
            REPORT_GROUP,
            REPORT_VERSION,
            namespace,
            "vulnerabilityreports",
            _request_timeout=timeout,
        )
    except ApiException as exc:
        if exc.status == 404:
            raise DriverError(
                "the VulnerabilityReport CRD is not installed: install trivy-operator in the "
                "workspace (helm install trivy-operator aqua/trivy-operator)"
            ) from None
        raise DriverError(
            f"listing VulnerabilityReports failed (HTTP {exc.status}): check hexaops' RBAC "
            "for aquasecurity.github.io vulnerabilityreports"
        ) from None
    except HTTPError as exc:
        raise DriverError(f"the workspace's API server did not answer ({exc})") from None
    items = listing.get("items", []) if isinstance(listing, dict) else []
    return [item for item in items if isinstance(item, dict)]


def vulnerabilities(ctx: ToolContext, found: list[Workload]) -> Sources:
    """Findings about the images of `found`, from the reports directory and the cluster."""
    images = {w.image for w in found}
    result = Sources([], [], [])
    reports_dir = ctx.settings.trivy_reports_dir
    if reports_dir is not None:
        if reports_dir.is_dir():
            rows, count, unreadable = read_reports_dir(reports_dir, images)
            result.vulnerabilities.extend(rows)
            result.read.append(f"{count} Trivy JSON reports in {reports_dir}")
            if unreadable:
                result.notes.append(f"skipped unreadable reports: {', '.join(unreadable)}")
        else:
            result.notes.append(f"HEXAOPS_TRIVY_REPORTS_DIR {reports_dir} is not a directory")
    namespaces = sorted({(w.app.org, w.app.workspace, w.app.project) for w in found})
    for org, ws, ns in namespaces:
        ref = NamespaceRef(org=org, workspace=ws, namespace=ns)
        try:
            objects = _cluster_reports(ctx, ref)
        except PlatformError as exc:
            result.notes.append(
                f"VulnerabilityReports of {org}/{ws}/{ns} unreadable: {exc.message}"
            )
            continue
        result.read.append(f"{len(objects)} VulnerabilityReports in {org}/{ws}/{ns}")
        for obj in objects:
            if report_image(obj) in images:
                result.vulnerabilities.extend(from_vulnerability_report(obj))
    return result
