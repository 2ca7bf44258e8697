"""Concurrent requests: the database, not a lucky interleaving, keeps the platform consistent.

Two threads are lined up with a barrier. Where a test must force the worst interleaving (both
requests have planned before either writes), it holds an EXCLUSIVE lock on the table the
requests write to — reads still pass, the first INSERT waits — until both requests wait on it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.contract import WorkloadRef
from hexaops.platform.errors import Conflict, PlatformError, QuotaExceeded
from hexaops.platform.views import ActionView

Outcome = ActionView | PlatformError
STAGING = {"workspace": "acme-staging", "project": "shop"}


def _race(
    calls: list[Callable[[], ActionView]],
    lock_table: str | None = None,
    platform: Platform | None = None,
) -> list[Outcome]:
    """Run the calls at once (barrier); optionally hold `lock_table` until all of them wait."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], ActionView]) -> Outcome:
        barrier.wait(timeout=10)
        try:
            return call()
        except PlatformError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        if lock_table is None:
            futures = [pool.submit(run, c) for c in calls]
        else:
            assert platform is not None
            with _locked(platform, lock_table):
                futures = [pool.submit(run, c) for c in calls]
                _wait_for_lock_waiters(platform, len(calls), futures)
        return [f.result(timeout=30) for f in futures]


@contextmanager
def _locked(platform: Platform, table: str) -> Iterator[None]:
    with platform.engine.connect() as conn:
        conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        yield
        conn.rollback()


def _wait_for_lock_waiters(platform: Platform, n: int, futures: list[Future[Any]]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(f.done() for f in futures):
            return  # one finished without writing (refused in planning): nothing to line up
        with platform.engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"{n} requests never waited on the table lock")


def _count(platform: Platform, sql: str, **params: object) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _split(outcomes: list[Outcome]) -> tuple[list[ActionView], list[PlatformError]]:
    views = [o for o in outcomes if isinstance(o, ActionView)]
    errors = [o for o in outcomes if isinstance(o, PlatformError)]
    return views, errors


@pytest.mark.parametrize("forced", [False, True], ids=["barrier", "both-planned-first"])
def test_concurrent_creates_of_one_workspace_name(
    platform: Platform, owner: Principal, forced: bool
) -> None:
    for round_ in range(3):
        name = f"race-{round_}"
        create = functools.partial(
            platform.request, owner, "workspace.create", {"org": "acme", "name": name}
        )
        outcomes = _race(
            [create] * 2,
            lock_table="workspaces" if forced else None,
            platform=platform,
        )
        views, errors = _split(outcomes)
        assert [v.status for v in views] == ["succeeded"], outcomes
        assert len(errors) == 1
        assert isinstance(errors[0], Conflict)
        live = "SELECT count(*) FROM workspaces WHERE name = :n AND status <> 'deleted'"
        assert _count(platform, live, n=name) == 1
        assert (
            _count(platform, "SELECT count(*) FROM actions WHERE target = :t", t=f"acme/{name}")
            == 1
        )
        assert [w.status for w in platform.workspaces(owner) if w.name == name] == ["ready"]


@pytest.mark.parametrize("forced", [False, True], ids=["barrier", "both-planned-first"])
def test_concurrent_retries_with_one_key_make_one_action(
    platform: Platform, owner: Principal, forced: bool
) -> None:
    params = {**STAGING, "name": "frontend"}
    outcomes = _race(
        [lambda: platform.request(owner, "application.restart", params, idempotency_key="r1")] * 2,
        lock_table="actions" if forced else None,
        platform=platform,
    )
    views, errors = _split(outcomes)
    assert errors == []
    assert len({v.id for v in views}) == 1
    assert sorted(v.replayed for v in views) == [False, True]
    assert _count(platform, "SELECT count(*) FROM actions WHERE idempotency_key = 'r1'") == 1
    ref = WorkloadRef(org="acme", workspace="acme-staging", namespace="shop", name="frontend")
    observed = platform.driver.get_application(ref)
    assert observed is not None
    assert observed.restart_generation == 1  # restarted once


def test_concurrent_retries_of_a_create_with_one_key_make_one_action(
    platform: Platform, owner: Principal
) -> None:
    """A client retrying a workspace create (same key) while the first try is still in flight
    must get that first action back, not a 'name was just taken' conflict."""
    params = {"org": "acme", "name": "acme-dev"}
    outcomes = _race(
        [lambda: platform.request(owner, "workspace.create", params, idempotency_key="c1")] * 2,
        lock_table="workspaces",
        platform=platform,
    )
    views, errors = _split(outcomes)
    assert errors == [], f"a retry with the same idempotency key failed: {errors}"
    assert len({v.id for v in views}) == 1
    assert _count(platform, "SELECT count(*) FROM actions WHERE idempotency_key = 'c1'") == 1


def test_concurrent_deploys_cannot_overcommit_a_project_quota(
    platform: Platform, owner: Principal
) -> None:
    """shop on acme-staging has 4 cpu and uses 1.7; each deploy asks 1.2, so only one fits."""

    def deploy(name: str) -> Callable[[], ActionView]:
        params = {
            **STAGING,
            "name": name,
            "image": f"ghcr.io/acme/{name}:1.0.0",
            "replicas": 2,
            "cpu_request": "600m",
        }
        return lambda: platform.request(owner, "application.deploy", params)

    outcomes = _race(
        [deploy("search"), deploy("reviews")], lock_table="applications", platform=platform
    )
    views, errors = _split(outcomes)
    [shop] = platform.projects(owner, "acme-staging")
    assert shop.used["cpu"] == "2900m", (
        f"project shop uses {shop.used['cpu']} cpu of a {shop.quota['cpu']} cpu quota"
    )
    assert len(views) == 1
    assert [type(e) for e in errors] == [QuotaExceeded]


def test_concurrent_project_creates_cannot_overcommit_a_workspace_plan(
    platform: Platform, owner: Principal
) -> None:
    """acme-staging (shared: 16 cpu) hands 4 cpu to shop; each new project asks 7: one fits."""

    def create(name: str) -> Callable[[], ActionView]:
        params = {"workspace": "acme-staging", "name": name, "cpu": "7"}
        return lambda: platform.request(owner, "project.create", params)

    outcomes = _race(
        [create("reports"), create("search")], lock_table="projects", platform=platform
    )
    views, errors = _split(outcomes)
    [ws] = [w for w in platform.workspaces(owner) if w.name == "acme-staging"]
    assert ws.allocated["cpu"] == "11", f"{ws.allocated['cpu']} cpu of a 16 cpu plan handed out"
    assert len(views) == 1
    assert [type(e) for e in errors] == [QuotaExceeded]
