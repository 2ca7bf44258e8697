"""What each operation does to platform state and to the cluster (the sandbox driver)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.contract import NamespaceRef, WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.errors import (
    ApprovalRequired,
    Conflict,
    InvalidInput,
    NotFound,
    QuotaExceeded,
)
from hexaops.platform.names import MAX_LENGTH
from pg_support import fresh_database

STAGING = {"workspace": "acme-staging", "project": "shop"}
MAX_WORKSPACE = MAX_LENGTH["workspace"]
TABLES = [
    "actions",
    "audit_events",
    "users",
    "memberships",
    "workspaces",
    "projects",
    "applications",
    "functions",
    "scaling_policies",
    "sandbox_objects",
]
STATE_TABLES = [t for t in TABLES if t not in ("actions", "audit_events")]


@pytest.fixture(scope="module")
def shared(pg_server: str, templates: dict[str, str]) -> Iterator[Platform]:
    """One seeded platform for the refused requests: each asserts it wrote nothing."""
    engine = create_engine(fresh_database(pg_server, templates["seeded"]))
    yield Platform(engine, SandboxDriver(engine))
    engine.dispose()


def _snapshot(platform: Platform, tables: list[str] = TABLES) -> dict[str, list[str]]:
    """Every row of every table, as text: equal snapshots mean nothing was written."""
    with platform.engine.connect() as conn:
        return {
            t: list(conn.execute(text(f"SELECT x::text FROM {t} x ORDER BY 1")).scalars())
            for t in tables
        }


def _app(platform: Platform, who: Principal, name: str, workspace: str = "acme-staging") -> Any:
    apps = {a.name: a for a in platform.applications(who, workspace, "shop")}
    return apps[name]


def _ref(name: str, workspace: str = "acme-staging") -> WorkloadRef:
    return WorkloadRef(org="acme", workspace=workspace, namespace="shop", name=name)


def _approve(platform: Platform, who: Principal, view: Any) -> Any:
    assert view.status == "pending"
    assert view.id is not None
    return platform.approve(who, view.id)


# -- workspaces ----------------------------------------------------------------------------


def test_create_workspace_is_ready_with_a_vcluster(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "workspace.create", {"org": "acme", "name": "acme-dev"})
    assert view.status == "succeeded"
    [ws] = [w for w in platform.workspaces(owner) if w.name == "acme-dev"]
    assert (ws.status, ws.plan, ws.kubernetes_version) == ("ready", "shared", "1.34")
    assert ws.capacity == {"cpu": "16", "memory": "32Gi", "pods": 200}
    observed = platform.driver.get_workspace(WorkspaceRef(org="acme", workspace="acme-dev"))
    assert observed is not None
    assert observed.status == "ready"


def test_dedicated_workspace_capacity_follows_its_node_pool(
    platform: Platform, owner: Principal
) -> None:
    platform.request(
        owner,
        "workspace.create",
        {"org": "acme", "name": "acme-big", "plan_name": "dedicated", "node_pool": {"nodes": 2}},
    )
    [ws] = [w for w in platform.workspaces(owner) if w.name == "acme-big"]
    assert ws.capacity == {"cpu": "16", "memory": "64Gi", "pods": 220}


def test_longest_workspace_name_gets_a_valid_host_namespace(
    platform: Platform, owner: Principal
) -> None:
    name = "w" * MAX_WORKSPACE
    assert platform.request(owner, "workspace.create", {"org": "acme", "name": name}).status == (
        "succeeded"
    )
    assert platform.driver.get_workspace(WorkspaceRef(org="acme", workspace=name)) is not None
    # Even for the longest organization slug, the host namespace stays a DNS-1123 label.
    longest = WorkspaceRef(org="o" * MAX_LENGTH["organization"], workspace=name).host_namespace
    assert len(longest) <= 63
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", longest)


def test_workspace_delete_needs_approval_and_cascades(platform: Platform, owner: Principal) -> None:
    ref = WorkspaceRef(org="acme", workspace="acme-staging")
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.status == "pending"
    assert view.risk == "high"
    # Nothing happens before the approval.
    assert [w.status for w in platform.workspaces(owner) if w.name == "acme-staging"] == ["ready"]
    assert platform.driver.get_workspace(ref) is not None
    assert len(platform.applications(owner, "acme-staging", "shop")) == 4

    assert _approve(platform, owner, view).status == "succeeded"
    assert "acme-staging" not in [w.name for w in platform.workspaces(owner)]
    with pytest.raises(NotFound):
        platform.projects(owner, "acme-staging")
    assert platform.driver.get_workspace(ref) is None
    assert platform.driver.get_application(_ref("frontend")) is None
    with platform.engine.connect() as conn:
        statuses = conn.execute(
            text(
                "SELECT DISTINCT p.status, a.status FROM workspaces w "
                "JOIN projects p ON p.workspace_id = w.id "
                "JOIN applications a ON a.project_id = p.id WHERE w.name = 'acme-staging'"
            )
        ).all()
    assert statuses == [("deleted", "deleted")]
    # The other workspace is untouched.
    assert len(platform.applications(owner, "acme-prod", "shop")) == 4


def test_workspace_name_is_reusable_after_deletion(platform: Platform, owner: Principal) -> None:
    _approve(platform, owner, platform.request(owner, "workspace.delete", {"name": "acme-staging"}))
    view = platform.request(owner, "workspace.create", {"org": "acme", "name": "acme-staging"})
    assert view.status == "succeeded"
    assert [w.status for w in platform.workspaces(owner) if w.name == "acme-staging"] == ["ready"]
    assert platform.projects(owner, "acme-staging") == []  # a new, empty workspace


@pytest.mark.parametrize("project", ["fresh", "shop"], ids=["recreated-changed", "recreated-alike"])
def test_stale_workspace_delete_does_not_destroy_a_recreated_workspace(
    platform: Platform, owner: Principal, project: str
) -> None:
    """A delete approved after its workspace was already deleted and re-created by name must not
    touch the new workspace: the approver never saw it — even when it looks just like the old one
    (same plan, same project names)."""
    first = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    stale = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    _approve(platform, owner, first)
    platform.request(owner, "workspace.create", {"org": "acme", "name": "acme-staging"})
    platform.request(owner, "project.create", {"workspace": "acme-staging", "name": project})

    assert stale.id is not None
    try:  # refusing the stale action, or failing it, is fine; crashing or deleting is not
        outcome = platform.approve(owner, stale.id).status
    except Conflict:
        outcome = "refused"
    assert outcome in ("refused", "failed")
    assert [w.status for w in platform.workspaces(owner) if w.name == "acme-staging"] == ["ready"]
    assert platform.driver.get_workspace(WorkspaceRef(org="acme", workspace="acme-staging"))
    namespace = NamespaceRef(org="acme", workspace="acme-staging", namespace=project)
    assert platform.driver.get_quota(namespace) is not None, "the new workspace's namespace is gone"


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/acme/catalog:2.0.0", "ghcr.io/acme/catalog:1.9.0"],
    ids=["redeployed-changed", "redeployed-alike"],
)
def test_stale_application_delete_does_not_destroy_a_redeployed_application(
    platform: Platform, owner: Principal, image: str
) -> None:
    """Same for an application: the approver of the old delete never saw the new deployment,
    even when it runs the same image with the same replicas as the deleted one."""
    catalog = {**STAGING, "name": "catalog"}
    first = platform.request(owner, "application.delete", catalog)
    stale = platform.request(owner, "application.delete", catalog)
    _approve(platform, owner, first)
    platform.request(
        owner,
        "application.deploy",
        {
            **catalog,
            "image": image,
            "replicas": 2,
            "cpu_request": "200m",
            "memory_request": "256Mi",
            "memory_limit": "512Mi",
        },
    )
    assert stale.id is not None
    try:
        outcome = platform.approve(owner, stale.id).status
    except Conflict:
        outcome = "refused"
    app = _app(platform, owner, "catalog")
    assert (app.status, app.image) == ("active", image)
    assert platform.driver.get_application(_ref("catalog")) is not None, (
        f"the stale delete {outcome}: the re-deployed catalog is still listed as active, "
        "but its Deployment was deleted"
    )
    assert outcome in ("refused", "failed")


# -- duplicates and invalid input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("workspace.create", {"org": "acme", "name": "acme-prod"}),
        ("project.create", {"workspace": "acme-prod", "name": "shop"}),
        ("member.add", {"org": "acme", "email": "dev@acme.example", "role": "viewer"}),
        (
            "application.deploy",
            {
                **STAGING,
                "name": "checkout",
                "image": "ghcr.io/acme/checkout:1.4.2",
                "cpu_request": "250m",
                "memory_request": "256Mi",
                "memory_limit": "512Mi",
            },
        ),
        ("application.scale", {**STAGING, "name": "frontend", "replicas": 3}),
    ],
    ids=["workspace", "project", "member", "same-app-spec", "same-replicas"],
)
def test_duplicates_are_conflicts_that_write_nothing(
    shared: Platform, kind: str, params: dict[str, Any]
) -> None:
    before = _snapshot(shared)
    with pytest.raises(Conflict):
        shared.request(shared.user("owner@acme.example"), kind, params)
    assert _snapshot(shared) == before


APP = {**STAGING, "name": "search", "image": "ghcr.io/acme/search:1.0.0"}

INVALID: list[tuple[str, str, dict[str, Any]]] = [
    ("ws-uppercase", "workspace.create", {"org": "acme", "name": "Acme_Dev"}),
    ("ws-leading-dash", "workspace.create", {"org": "acme", "name": "-dev"}),
    ("ws-too-long", "workspace.create", {"org": "acme", "name": "a" * (MAX_WORKSPACE + 1)}),
    ("ws-empty", "workspace.create", {"org": "acme", "name": ""}),
    ("ws-plan", "workspace.create", {"org": "acme", "name": "x", "plan_name": "premium"}),
    ("ws-k8s", "workspace.create", {"org": "acme", "name": "x", "kubernetes_version": "1.20"}),
    ("ws-shared-pool", "workspace.create", {"org": "acme", "name": "x", "node_pool": {"nodes": 2}}),
    (
        "ws-zero-nodes",
        "workspace.create",
        {"org": "acme", "name": "x", "plan_name": "dedicated", "node_pool": {"nodes": 0}},
    ),
    ("ws-unknown-param", "workspace.create", {"org": "acme", "name": "x", "region": "eu"}),
    ("unknown-kind", "workspace.resize", {"name": "acme-prod"}),
    (
        "project-cpu-negative",
        "project.create",
        {"workspace": "acme-prod", "name": "x", "cpu": "-1"},
    ),
    ("project-cpu-zero", "project.create", {"workspace": "acme-prod", "name": "x", "cpu": "0"}),
    (
        "project-cpu-submilli",
        "project.create",
        {"workspace": "acme-prod", "name": "x", "cpu": "0.0001"},
    ),
    ("project-memory", "project.create", {"workspace": "acme-prod", "name": "x", "memory": "lots"}),
    ("project-pods", "project.create", {"workspace": "acme-prod", "name": "x", "pods": 0}),
    (
        "quota-memory-zero",
        "project.update_quota",
        {"workspace": "acme-prod", "name": "shop", "memory": "0"},
    ),
    ("member-role", "member.add", {"org": "acme", "email": "x@acme.example", "role": "superuser"}),
    ("member-email", "member.add", {"org": "acme", "email": "not-an-email", "role": "viewer"}),
    ("app-image", "application.deploy", {**APP, "image": "Not An Image"}),
    ("app-name", "application.deploy", {**APP, "name": "Search"}),
    ("app-cpu-zero", "application.deploy", {**APP, "cpu_request": "0"}),
    (
        "app-limit-below-request",
        "application.deploy",
        {**APP, "memory_request": "128Mi", "memory_limit": "64Mi"},
    ),
    ("app-replicas-negative", "application.deploy", {**APP, "replicas": -1}),
    ("scale-negative", "application.scale", {**STAGING, "name": "frontend", "replicas": -1}),
    ("scale-too-many", "application.scale", {**STAGING, "name": "frontend", "replicas": 1001}),
    (
        "hpa-min-over-max",
        "application.set_hpa",
        {**STAGING, "name": "frontend", "min_replicas": 5, "max_replicas": 2},
    ),
    (
        "hpa-min-zero",
        "application.set_hpa",
        {**STAGING, "name": "frontend", "min_replicas": 0, "max_replicas": 2},
    ),
    ("fn-runtime", "function.deploy", {**STAGING, "name": "fn", "runtime": "ruby"}),
    ("fn-memory", "function.deploy", {**STAGING, "name": "fn", "memory": "big"}),
    ("fn-memory-zero", "function.deploy", {**STAGING, "name": "fn", "memory": "0"}),
    ("fn-concurrency", "function.set_scaling", {**STAGING, "name": "fn", "concurrency": 0}),
]


@pytest.mark.parametrize(("kind", "params"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID])
def test_invalid_input_is_refused_and_writes_nothing(
    shared: Platform, kind: str, params: dict[str, Any]
) -> None:
    before = _snapshot(shared)
    with pytest.raises(InvalidInput):
        shared.request(shared.user("owner@acme.example"), kind, params)
    assert _snapshot(shared) == before


# -- quotas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workspace", "quota"),
    [
        ("acme-staging", {"cpu": "13"}),  # shared cap 16 cpu; shop holds 4
        ("acme-staging", {"memory": "25Gi"}),  # shared cap 32Gi; shop holds 8Gi
        ("acme-staging", {"pods": 161}),  # shared cap 200 pods; shop holds 40
        ("acme-prod", {"cpu": "21"}),  # dedicated 3 × 8 cpu = 24; shop holds 4
    ],
)
def test_project_over_the_workspace_plan_cap_is_refused(
    shared: Platform, workspace: str, quota: dict[str, Any]
) -> None:
    before = _snapshot(shared)
    with pytest.raises(QuotaExceeded):
        shared.request(
            shared.user("owner@acme.example"),
            "project.create",
            {"workspace": workspace, "name": "big", **quota},
        )
    assert _snapshot(shared) == before


def test_project_exactly_at_the_plan_cap_is_allowed(platform: Platform, owner: Principal) -> None:
    view = platform.request(
        owner, "project.create", {"workspace": "acme-prod", "name": "big", "cpu": "20"}
    )
    assert view.status == "succeeded"
    quota = NamespaceRef(org="acme", workspace="acme-prod", namespace="big")
    observed = platform.driver.get_quota(quota)
    assert observed is not None
    assert observed.cpu_millis == 20_000


def test_project_quota_cannot_shrink_below_what_apps_use(
    platform: Platform, owner: Principal
) -> None:
    # shop on acme-staging runs 1.7 cpu of requests.
    before = _snapshot(platform)
    with pytest.raises(QuotaExceeded):
        platform.request(
            owner, "project.update_quota", {"workspace": "acme-staging", "name": "shop", "cpu": "1"}
        )
    assert _snapshot(platform) == before
    view = platform.request(
        owner, "project.update_quota", {"workspace": "acme-staging", "name": "shop", "cpu": "2"}
    )
    assert view.status == "succeeded"
    [shop] = platform.projects(owner, "acme-staging")
    assert shop.quota["cpu"] == "2"


def test_deploy_over_the_project_quota_is_refused(platform: Platform, owner: Principal) -> None:
    before = _snapshot(platform)
    with pytest.raises(QuotaExceeded):  # 10 × 300m on top of 1.7 cpu > 4 cpu
        platform.request(
            owner, "application.deploy", {**APP, "replicas": 10, "cpu_request": "300m"}
        )
    assert _snapshot(platform) == before
    view = platform.request(owner, "application.deploy", {**APP, "replicas": 2})
    assert view.status == "succeeded"
    assert _app(platform, owner, "search").status == "active"


def test_scale_over_the_project_quota_is_refused(platform: Platform, owner: Principal) -> None:
    before = _snapshot(platform)
    with pytest.raises(QuotaExceeded):
        platform.request(
            owner, "application.scale", {**STAGING, "name": "frontend", "replicas": 30}
        )
    assert _snapshot(platform) == before


# -- applications --------------------------------------------------------------------------


def test_scale_changes_replicas_and_pods(platform: Platform, owner: Principal) -> None:
    view = platform.request(
        owner, "application.scale", {**STAGING, "name": "frontend", "replicas": 5}
    )
    assert view.status == "succeeded"
    assert view.risk == "low"
    assert _app(platform, owner, "frontend").replicas == 5
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert (observed.replicas, len(observed.pods), observed.ready_replicas) == (5, 5, 5)
    [shop] = platform.projects(owner, "acme-staging")
    assert shop.used["pods"] == 11


def test_scale_to_zero_needs_approval(platform: Platform, owner: Principal) -> None:
    view = platform.request(
        owner, "application.scale", {**STAGING, "name": "frontend", "replicas": 0}
    )
    assert view.status == "pending"
    assert view.risk == "high"
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert observed.replicas == 3
    assert _approve(platform, owner, view).status == "succeeded"
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert (observed.replicas, observed.pods) == (0, [])
    assert _app(platform, owner, "frontend").replicas == 0


def test_scaling_to_zero_through_a_deploy_also_needs_approval(
    platform: Platform, owner: Principal
) -> None:
    """Re-deploying the running image with replicas=0 is the same outage as scale --replicas 0."""
    dev = platform.user("dev@acme.example")
    view = platform.request(
        dev,
        "application.deploy",
        {
            **STAGING,
            "name": "frontend",
            "image": "ghcr.io/acme/frontend:2.3.1",
            "replicas": 0,
            "memory_limit": "256Mi",
        },
    )
    assert view.status == "pending", "frontend was scaled to zero without an approval"
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert observed.replicas == 3


def test_restart_replaces_every_pod(platform: Platform, owner: Principal) -> None:
    before = platform.driver.get_application(_ref("frontend"))
    assert before is not None
    view = platform.request(owner, "application.restart", {**STAGING, "name": "frontend"})
    assert view.status == "succeeded"
    after = platform.driver.get_application(_ref("frontend"))
    assert after is not None
    assert len(after.pods) == len(before.pods) == 3
    assert not {p.name for p in after.pods} & {p.name for p in before.pods}
    assert (after.image, after.revision) == (before.image, before.revision)
    assert after.restart_generation == before.restart_generation + 1
    assert view.result is not None
    assert sorted(view.result["replaced_pods"]) == sorted(p.name for p in before.pods)
    assert _app(platform, owner, "frontend").revision == 1


def test_rollback_returns_to_the_previous_image_as_a_new_revision(
    platform: Platform, owner: Principal
) -> None:
    frontend = {**STAGING, "name": "frontend"}
    platform.request(
        owner, "application.deploy", {**frontend, "image": "ghcr.io/acme/frontend:2.4.0"}
    )
    assert (
        _app(platform, owner, "frontend").image,
        _app(platform, owner, "frontend").revision,
    ) == (
        "ghcr.io/acme/frontend:2.4.0",
        2,
    )
    view = platform.request(owner, "application.rollback", frontend)
    assert view.status == "succeeded"
    app = _app(platform, owner, "frontend")
    assert (app.image, app.revision) == ("ghcr.io/acme/frontend:2.3.1", 3)
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert (observed.image, observed.revision) == ("ghcr.io/acme/frontend:2.3.1", 3)
    # An explicit revision is kept too, and again becomes a new revision.
    platform.request(owner, "application.rollback", {**frontend, "to_revision": 2})
    app = _app(platform, owner, "frontend")
    assert (app.image, app.revision) == ("ghcr.io/acme/frontend:2.4.0", 4)


def test_rollback_without_history_or_to_an_unknown_revision_is_refused(
    platform: Platform, owner: Principal
) -> None:
    frontend = {**STAGING, "name": "frontend"}
    with pytest.raises(Conflict):
        platform.request(owner, "application.rollback", frontend)
    platform.request(
        owner, "application.deploy", {**frontend, "image": "ghcr.io/acme/frontend:2.4.0"}
    )
    with pytest.raises(InvalidInput):
        platform.request(owner, "application.rollback", {**frontend, "to_revision": 7})


@pytest.mark.parametrize(
    ("bounds", "replicas"),
    [((4, 6), 4), ((1, 2), 2), ((2, 5), 3)],
    ids=["raised-to-min", "lowered-to-max", "unchanged-within"],
)
def test_hpa_clamps_replicas_into_its_bounds(
    platform: Platform, owner: Principal, bounds: tuple[int, int], replicas: int
) -> None:
    low, high = bounds
    view = platform.request(
        owner,
        "application.set_hpa",
        {**STAGING, "name": "frontend", "min_replicas": low, "max_replicas": high},
    )
    assert view.status == "succeeded"
    app = _app(platform, owner, "frontend")
    assert app.replicas == replicas
    assert app.autoscaling == {"min_replicas": low, "max_replicas": high, "target_cpu_percent": 70}
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert observed.replicas == replicas
    assert observed.hpa is not None
    assert (observed.hpa.min_replicas, observed.hpa.max_replicas) == bounds


def test_manual_scale_must_stay_within_the_hpa(platform: Platform, owner: Principal) -> None:
    frontend = {**STAGING, "name": "frontend"}
    platform.request(
        owner, "application.set_hpa", {**frontend, "min_replicas": 2, "max_replicas": 4}
    )
    with pytest.raises(InvalidInput):
        platform.request(owner, "application.scale", {**frontend, "replicas": 6})
    with pytest.raises(InvalidInput):  # a rollout cannot set replicas outside the HPA either
        platform.request(
            owner,
            "application.deploy",
            {**frontend, "image": "ghcr.io/acme/frontend:2.4.0", "replicas": 6},
        )
    assert platform.request(owner, "application.scale", {**frontend, "replicas": 4}).status == (
        "succeeded"
    )
    with pytest.raises(Conflict):  # the same policy again changes nothing
        platform.request(
            owner, "application.set_hpa", {**frontend, "min_replicas": 2, "max_replicas": 4}
        )


def test_application_delete_needs_approval(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "application.delete", {**STAGING, "name": "catalog"})
    assert platform.driver.get_application(_ref("catalog")) is not None
    assert _approve(platform, owner, view).status == "succeeded"
    assert "catalog" not in [a.name for a in platform.applications(owner, "acme-staging", "shop")]
    assert platform.driver.get_application(_ref("catalog")) is None


# -- functions -----------------------------------------------------------------------------


def test_function_deploy_scale_and_delete(platform: Platform, owner: Principal) -> None:
    fn = {**STAGING, "name": "thumbnails"}
    assert platform.request(owner, "function.deploy", fn).status == "succeeded"
    [view] = platform.functions(owner, "acme-staging", "shop")
    assert (view.name, view.status, view.runtime, view.memory) == (
        "thumbnails",
        "active",
        "python3.12",
        "256Mi",
    )
    observed = platform.driver.get_function(_ref("thumbnails"))
    assert observed is not None
    assert observed.image == "ghcr.io/hexabase/fn-python:3.12"

    # Redeploying updates the same function.
    platform.request(
        owner, "function.deploy", {**fn, "runtime": "nodejs22", "image": "ghcr.io/acme/thumbs:2"}
    )
    [view] = platform.functions(owner, "acme-staging", "shop")
    assert (view.runtime, view.image) == ("nodejs22", "ghcr.io/acme/thumbs:2")

    scaled = platform.request(
        owner, "function.set_scaling", {**fn, "concurrency": 5, "max_instances": 3}
    )
    assert scaled.status == "succeeded"
    [view] = platform.functions(owner, "acme-staging", "shop")
    assert view.scaling == {"concurrency": 5, "max_instances": 3}
    observed = platform.driver.get_function(_ref("thumbnails"))
    assert observed is not None
    assert (observed.concurrency, observed.max_instances) == (5, 3)

    delete = platform.request(owner, "function.delete", fn)
    assert platform.driver.get_function(_ref("thumbnails")) is not None
    assert _approve(platform, owner, delete).status == "succeeded"
    assert platform.functions(owner, "acme-staging", "shop") == []
    assert platform.driver.get_function(_ref("thumbnails")) is None
    with pytest.raises(NotFound):
        platform.request(owner, "function.set_scaling", {**fn, "concurrency": 5})


# -- decisions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("workspace.delete", {"name": "acme-staging"}),
        ("project.delete", {"workspace": "acme-staging", "name": "shop"}),
        ("application.delete", {**STAGING, "name": "frontend"}),
        ("application.scale", {**STAGING, "name": "frontend", "replicas": 0}),
        ("member.remove", {"org": "acme", "email": "dev@acme.example"}),
    ],
)
def test_reject_leaves_state_unchanged(
    platform: Platform, owner: Principal, kind: str, params: dict[str, Any]
) -> None:
    before = _snapshot(platform, STATE_TABLES)
    view = platform.request(owner, kind, params)
    assert view.status == "pending"
    assert view.id is not None
    rejected = platform.reject(owner, view.id, "no")
    assert rejected.status == "rejected"
    assert rejected.decision_note == "no"
    assert _snapshot(platform, STATE_TABLES) == before


def test_decided_actions_cannot_be_decided_again(platform: Platform, owner: Principal) -> None:
    approved = platform.request(owner, "application.delete", {**STAGING, "name": "frontend"})
    rejected = platform.request(owner, "application.delete", {**STAGING, "name": "checkout"})
    auto = platform.request(owner, "application.restart", {**STAGING, "name": "catalog"})
    assert approved.id is not None
    assert rejected.id is not None
    assert auto.id is not None
    platform.approve(owner, approved.id)
    platform.reject(owner, rejected.id)
    events = _snapshot(platform, ["audit_events"])
    for action_id in (approved.id, rejected.id, auto.id):
        with pytest.raises(Conflict):
            platform.approve(owner, action_id)
        with pytest.raises(Conflict):
            platform.reject(owner, action_id)
    assert _snapshot(platform, ["audit_events"]) == events
    assert [platform.action(owner, i).status for i in (approved.id, rejected.id, auto.id)] == [
        "succeeded",
        "rejected",
        "succeeded",
    ]
    assert "checkout" in [a.name for a in platform.applications(owner, "acme-staging", "shop")]


def test_running_a_pending_action_requires_approval(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.id is not None
    with pytest.raises(ApprovalRequired):
        platform.actions.run(view.id)
    assert platform.action(owner, view.id).status == "pending"
    assert platform.driver.get_workspace(WorkspaceRef(org="acme", workspace="acme-staging"))


def test_running_a_finished_action_again_does_nothing(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "application.restart", {**STAGING, "name": "frontend"})
    assert view.id is not None
    before = _snapshot(platform)
    again = platform.actions.run(view.id)
    assert again.status == "succeeded"
    assert _snapshot(platform) == before
    observed = platform.driver.get_application(_ref("frontend"))
    assert observed is not None
    assert observed.restart_generation == 1
