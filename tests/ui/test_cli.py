"""The `hexaops` command line, run as users run it: the installed script in a subprocess.

Each test gets a fresh database (a clone of the seeded template) passed as DATABASE_URL, and
its own HEXAOPS_HOME. A CLI call costs about 1.5 s, so tests group the calls of one story and
check database state in-process, where that is cheaper than another call.

Exit codes (hexaops.ui.cli.output): 0 success, 1 operation error — one "error: …" line on
stderr and no traceback —, 2 usage error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from hexaops.platform.core import Platform
from hexaops.platform.db.models import Base
from hexaops.platform.drivers.contract import WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.seed import APPS, ORGS
from pg_support import fresh_database

OWNER = "owner@acme.example"
DEV = "dev@acme.example"

_SCRIPT = shutil.which("hexaops", path=os.path.dirname(sys.executable))


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.stdout)


class Cli:
    """`hexaops platform …` against one database."""

    def __init__(self, database_url: str, home: Path) -> None:
        assert _SCRIPT is not None, "the hexaops console script is not installed in the venv"
        self.database_url = database_url
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("HEXAOPS_") and k != "DATABASE_URL"
        }
        self.env |= {"DATABASE_URL": database_url, "HEXAOPS_HOME": str(home)}

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Run:
        assert _SCRIPT is not None
        proc = subprocess.run(
            [_SCRIPT, "platform", *args],
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(args, proc.returncode, proc.stdout, proc.stderr)

    def many(self, calls: Sequence[Sequence[str]]) -> list[Run]:
        """Independent calls, run concurrently (each is a separate process anyway)."""
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            return list(pool.map(lambda args: self(*args), calls))


CliFactory = Callable[[str], Cli]


@pytest.fixture
def make_cli(pg_server: str, templates: dict[str, str], tmp_path: Path) -> CliFactory:
    def make(template: str) -> Cli:
        home = tmp_path / f"home-{template}"
        home.mkdir(exist_ok=True)
        return Cli(fresh_database(pg_server, templates[template]), home)

    return make


@pytest.fixture
def cli(make_cli: CliFactory) -> Cli:
    """The CLI on a fresh copy of the seeded demo data (acme and globex)."""
    return make_cli("seeded")


@contextmanager
def platform_on(url: str) -> Iterator[Platform]:
    engine = create_engine(url)
    try:
        yield Platform(engine, SandboxDriver(engine))
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every platform table (including the sandbox), in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def error_line(run: Run) -> str:
    """The run failed as an operation error: exit 1, one 'error: …' line, nothing else."""
    assert run.code == 1, run
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), run.stderr
    assert run.stdout == "", run.stdout
    return lines[0]


def usage_error(run: Run) -> str:
    """The run failed as a usage error (exit 2) with click's message and no traceback."""
    assert run.code == 2, run
    assert "Traceback" not in run.stderr, run.stderr
    assert "Usage: hexaops platform" in run.stderr
    return run.stderr


# -- seed and status -----------------------------------------------------------------------


def test_seed_is_idempotent(make_cli: CliFactory) -> None:
    cli = make_cli("empty")
    members = sum(len(org["members"]) for org in ORGS.values())
    workspaces = [w for org in ORGS.values() for w in org["workspaces"].values()]
    actions = sum(  # one action per workspace, project and application
        1 + len(w["projects"]) + sum(len(apps) for apps in w["projects"].values())
        for w in workspaces
    )

    first = cli("seed")
    assert first.code == 0, first
    created = len(ORGS) + members + actions
    assert f"seeded: {created} created, 0 already present" in first.stdout

    second = cli("seed", "--json").json()
    assert second["created"] == []
    assert len(second["existing"]) == actions
    assert "workspace.create acme/acme-prod" in second["existing"]
    assert "application.deploy globex/globex-prod/web/api" in second["existing"]


def test_status_shows_only_the_callers_organizations(cli: Cli) -> None:
    run = cli("status", "--as", OWNER, "--json")
    tree = run.json()
    assert "globex" not in run.stdout
    assert [node["organization"]["slug"] for node in tree] == ["acme"]
    assert tree[0]["organization"]["role"] == "owner"
    workspaces = {w["workspace"]["name"]: w for w in tree[0]["workspaces"]}
    assert sorted(workspaces) == ["acme-prod", "acme-staging"]
    for name, node in workspaces.items():
        assert node["workspace"]["status"] == "ready"
        assert node["workspace"]["plan"] == ORGS["acme"]["workspaces"][name]["plan"]
        (project,) = node["projects"]
        assert project["project"]["name"] == "shop"
        apps = {a["name"]: a for a in project["applications"]}
        assert sorted(apps) == sorted(["frontend", "checkout", "payments", "catalog"])
        for app_name, app in apps.items():
            assert (app["image"], app["replicas"]) == APPS[app_name][:2]
            assert app["status"] == "active"


# -- workspace create: success, dry run, idempotency ---------------------------------------


def test_workspace_create_succeeds(cli: Cli) -> None:
    view = cli(
        "workspace", "create", "--org", "acme", "--name", "acme-dev", "--as", OWNER,
        "--plan", "dedicated", "--nodes", "2", "--kubernetes-version", "1.33", "--json",
    ).json()  # fmt: skip
    assert view["status"] == "succeeded"
    assert isinstance(view["id"], int)
    assert view["operation"] == "workspace.create"
    assert view["target"] == "acme/acme-dev"
    assert view["approved_by"] == "policy:low-risk"
    assert view["result"]["status"] == "ready"
    assert view["result"]["kubernetes_version"] == "1.33"

    listed = {w["name"]: w for w in cli("workspace", "list", "--as", OWNER, "--json").json()}
    assert sorted(listed) == ["acme-dev", "acme-prod", "acme-staging"]
    created = listed["acme-dev"]
    assert (created["plan"], created["status"], created["kubernetes_version"]) == (
        "dedicated",
        "ready",
        "1.33",
    )
    assert created["node_pool"]["nodes"] == 2
    with platform_on(cli.database_url) as platform:
        observed = platform.driver.get_workspace(WorkspaceRef(org="acme", workspace="acme-dev"))
    assert observed is not None
    assert observed.status == "ready"


def test_dry_run_changes_nothing(cli: Cli) -> None:
    before = snapshot(cli.database_url)
    view = cli(
        "workspace", "create", "--org", "acme", "--name", "acme-dev", "--as", OWNER,
        "--dry-run", "--json",
    ).json()  # fmt: skip
    assert (view["id"], view["status"]) == (None, "planned")
    assert view["target"] == "acme/acme-dev"
    assert [c["op"] for c in view["plan"]["changes"]] == ["create"]
    assert snapshot(cli.database_url) == before


def test_idempotency_key_returns_the_same_action(cli: Cli) -> None:
    args = ("workspace", "create", "--org", "acme", "--name", "acme-dev", "--as", OWNER)
    first = cli(*args, "--idempotency-key", "create-acme-dev", "--json").json()
    assert first["status"] == "succeeded"
    assert first["replayed"] is False
    between = snapshot(cli.database_url)

    second = cli(*args, "--idempotency-key", "create-acme-dev", "--json").json()
    assert second["id"] == first["id"]
    assert second["status"] == "succeeded"
    assert second["replayed"] is True
    assert snapshot(cli.database_url) == between, "a replay writes nothing"


# -- errors --------------------------------------------------------------------------------

# (what is wrong, arguments, a fragment of the error line)
BAD_INPUTS: list[tuple[str, list[str], str]] = [
    (
        "invalid name",
        ["workspace", "create", "--org", "acme", "--name", "Bad_Name", "--as", OWNER],
        "invalid workspace name 'Bad_Name'",
    ),
    (
        "unknown plan",
        [
            "workspace",
            "create",
            "--org",
            "acme",
            "--name",
            "x1",
            "--plan",
            "premium",
            "--as",
            OWNER,
        ],
        "unknown plan 'premium'",
    ),
    (
        "negative pods quota",
        ["project", "create", "-w", "acme-staging", "-n", "extra", "--pods=-5", "--as", OWNER],
        "pods: Input should be greater than 0",
    ),
    (
        "negative cpu quota",
        ["project", "create", "-w", "acme-staging", "-n", "extra", "--cpu=-1", "--as", OWNER],
        "invalid cpu quantity '-1'",
    ),
    (
        "quota over the plan cap",
        ["project", "create", "-w", "acme-staging", "-n", "extra", "--cpu", "100", "--as", OWNER],
        "would get more than its shared plan allows",
    ),
    (
        "unknown role",
        [
            "member",
            "add",
            "--org",
            "acme",
            "--email",
            "new@acme.example",
            "--role",
            "superuser",
            "--as",
            OWNER,
        ],
        "unknown role 'superuser'",
    ),
    (
        "duplicate workspace name",
        ["workspace", "create", "--org", "acme", "--name", "acme-prod", "--as", OWNER],
        "workspace 'acme-prod' already exists in acme",
    ),
    (
        "unknown user",
        ["workspace", "list", "--as", "nobody@acme.example"],
        "no platform user 'nobody@acme.example'",
    ),
    (
        "another organization's workspace",
        ["workspace", "delete", "--name", "globex-prod", "--as", OWNER],
        "workspace 'globex-prod' not found",
    ),
    (
        "another organization",
        ["workspace", "create", "--org", "globex", "--name", "intruder", "--as", OWNER],
        "organization 'globex' not found",
    ),
]


# (what is wrong, arguments, a fragment of click's message) — exit code 2, nothing runs.
USAGE_ERRORS: list[tuple[str, list[str], str]] = [
    ("missing --as", ["workspace", "list"], "Missing option '--as'"),
    (
        "missing required option",
        ["workspace", "create", "--org", "acme", "--as", OWNER],
        "Missing option '--name'",
    ),
]


def test_bad_input_is_one_error_line_and_changes_nothing(
    cli: Cli, subtests: pytest.Subtests
) -> None:
    listed_before = cli("workspace", "list", "--as", OWNER, "--json").json()
    before = snapshot(cli.database_url)

    # None of these may write, so they can run side by side.
    runs = cli.many([args for _, args, _ in BAD_INPUTS + USAGE_ERRORS])
    bad_runs, usage_runs = runs[: len(BAD_INPUTS)], runs[len(BAD_INPUTS) :]
    for (what, _, fragment), run in zip(BAD_INPUTS, bad_runs, strict=True):
        with subtests.test(what):
            assert fragment in error_line(run)
    for (what, _, fragment), run in zip(USAGE_ERRORS, usage_runs, strict=True):
        with subtests.test(what):
            assert fragment in usage_error(run)

    assert snapshot(cli.database_url) == before
    assert cli("workspace", "list", "--as", OWNER, "--json").json() == listed_before


def test_invalid_database_url_names_the_variable_that_was_set(cli: Cli) -> None:
    line = error_line(
        cli("workspace", "list", "--as", OWNER, env={"DATABASE_URL": "mysql://db.example/hexaops"})
    )
    assert "must be a PostgreSQL URL" in line
    # DATABASE_URL is what was set (and what the docs tell users to set): name it.
    assert re.search(r"(?<!HEXAOPS_)DATABASE_URL\b", line), line


# -- approvals and audit -------------------------------------------------------------------


def test_approval_flow_and_audit(cli: Cli) -> None:
    delete = cli("workspace", "delete", "--name", "acme-staging", "--as", OWNER, "--json").json()
    assert (delete["status"], delete["risk"]) == ("pending", "high")
    app_delete = cli(
        "app", "delete", "-w", "acme-prod", "-p", "shop", "-n", "catalog", "--as", DEV, "--json"
    ).json()
    assert app_delete["status"] == "pending"

    pending = cli("actions", "list", "--status", "pending", "--as", OWNER, "--json").json()
    assert {a["id"] for a in pending} == {delete["id"], app_delete["id"]}
    assert {a["status"] for a in pending} == {"pending"}

    forbidden = error_line(cli("actions", "approve", str(delete["id"]), "--as", DEV))
    assert "your role in acme is developer" in forbidden
    assert "action.approve needs admin or owner" in forbidden

    approved = cli("actions", "approve", str(delete["id"]), "--as", OWNER, "--json").json()
    assert (approved["id"], approved["status"]) == (delete["id"], "succeeded")
    assert approved["approved_by"] == OWNER

    rejected = cli(
        "actions", "reject", str(app_delete["id"]), "--as", OWNER, "--note", "keep it", "--json"
    ).json()
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "keep it")

    with platform_on(cli.database_url) as platform:
        owner = platform.user(OWNER)
        assert [w.name for w in platform.workspaces(owner)] == ["acme-prod"]
        apps = {a.name: a.status for a in platform.applications(owner, "acme-prod", "shop")}
        assert apps["catalog"] == "active"
        assert (
            platform.driver.get_workspace(WorkspaceRef(org="acme", workspace="acme-staging"))
            is None
        )
        catalog = WorkloadRef(org="acme", workspace="acme-prod", namespace="shop", name="catalog")
        assert platform.driver.get_application(catalog) is not None

    audit = cli("audit", "--org", "acme", "--as", OWNER, "--json").json()
    events = [(e["action_id"], e["event"], e["actor"]) for e in reversed(audit)]
    assert [e for e in events if e[0] == delete["id"]] == [
        (delete["id"], "action.pending", OWNER),
        (delete["id"], "action.approved", OWNER),
        (delete["id"], "action.executing", "platform"),
        (delete["id"], "action.succeeded", "platform"),
    ]
    assert [e for e in events if e[0] == app_delete["id"]] == [
        (app_delete["id"], "action.pending", DEV),
        (app_delete["id"], "action.rejected", OWNER),
    ]
    assert audit == sorted(audit, key=lambda e: e["id"], reverse=True), "newest first"


# -- autoscaling -----------------------------------------------------------------------------


def test_deploy_keeps_replicas_within_autoscaling_bounds(cli: Cli) -> None:
    app = ("-w", "acme-prod", "-p", "shop", "-n", "frontend", "--as", DEV)
    hpa = cli("app", "autoscale", *app, "--min", "1", "--max", "3", "--json").json()
    assert hpa["status"] == "succeeded"

    run = cli("app", "deploy", *app, "--image", "ghcr.io/acme/frontend:2.4.0", "--replicas", "8")
    if run.code != 0:  # rejecting the request (as `app scale` does) is fine
        error_line(run)

    with platform_on(cli.database_url) as platform:
        (frontend,) = [
            a
            for a in platform.applications(platform.user(DEV), "acme-prod", "shop")
            if a.name == "frontend"
        ]
        observed = platform.driver.get_application(
            WorkloadRef(org="acme", workspace="acme-prod", namespace="shop", name="frontend")
        )
    assert frontend.autoscaling is not None
    assert 1 <= frontend.replicas <= 3, f"platform records {frontend.replicas} replicas"
    assert observed is not None
    assert 1 <= observed.replicas <= 3, f"the cluster runs {observed.replicas} replicas"
