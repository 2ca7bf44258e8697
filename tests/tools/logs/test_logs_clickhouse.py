"""The log tools on the ClickHouse backend, reading what the sandbox wrote."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import hexaops.tools.logs  # noqa: F401  (registers the tools)
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool


@pytest.fixture
def faulty(platform: Platform, store: ClickHouseStore) -> ClickHouseStore:
    """acme-prod's checkout crash-loops on a bad config; globex's api throws 500s."""
    sim = Simulation(platform.engine)
    sim.inject("crashloop_bad_config", "acme", "acme-prod", "shop/checkout")
    sim.inject("bad_deploy_error_spike", "globex", "globex-prod", "web/api")
    sim.advance(6, store)
    return store


def test_summary_names_the_root_cause_first(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    result = run_tool(tool_context(), "logs_summary", {"workspace": "acme-prod", "project": "shop"})
    assert result.status == "ok", result.summary
    top = result.data["templates"][0]
    assert "invalid configuration" in top["template"]
    assert "FATAL" in top["levels"]
    assert "invalid configuration" in result.data["first_error"]["line"]
    assert "invalid configuration" in result.summary
    assert result.tokens <= 2000
    assert result.evidence[0].backend == "clickhouse"
    assert result.evidence[0].objects == ["acme/acme-prod"]


def test_summary_level_filter_and_workload_scope(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    ctx = tool_context()
    fatal = run_tool(ctx, "logs_summary", {"workspace": "acme-prod", "level": "FATAL"})
    assert fatal.status == "ok"
    assert set(fatal.data["levels"]) == {"FATAL"}
    other = run_tool(
        ctx,
        "logs_summary",
        {"workspace": "acme-prod", "project": "shop", "workload": "catalog", "level": "ERROR"},
    )
    assert other.status == "empty", other.summary


def test_search_filters_and_bounds(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    result = run_tool(
        tool_context(),
        "logs_search",
        {"workspace": "acme-prod", "contains": "INVALID CONFIG", "limit": 3},
    )
    assert result.status == "ok", result.summary
    assert len(result.data) == 3
    assert all("invalid configuration" in line and "FATAL" in line for line in result.data)
    times = [line.split()[0] for line in result.data]
    assert times == sorted(times, reverse=True)  # newest first
    assert "limit reached" in result.summary


def test_top_errors_only_from_the_principals_org(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    acme = run_tool(tool_context(), "logs_top_errors", {"since": "1h"})
    assert acme.status == "ok", acme.summary
    text = str(acme.data)
    assert "invalid configuration" in text
    assert "unhandled exception" not in text
    globex = run_tool(tool_context("owner@globex.example"), "logs_top_errors", {})
    assert globex.status == "ok"
    assert "unhandled exception" in str(globex.data)
    assert "invalid configuration" not in str(globex.data)


def test_other_orgs_and_unknown_objects_are_not_found(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    ctx = tool_context()
    for args in (
        {"workspace": "globex-prod"},
        {"org": "globex"},
        {"workspace": "acme-prod", "project": "web"},
        {"workspace": "acme-prod", "project": "shop", "workload": "nope"},
    ):
        result = run_tool(ctx, "logs_summary", args)
        assert result.error_code == "not_found", args
    result = run_tool(ctx, "logs_search", {"project": "shop"})
    assert result.error_code == InvalidInput.code


def test_logql_on_clickhouse_points_to_the_other_tools(
    tool_context: Callable[..., ToolContext], faulty: ClickHouseStore
) -> None:
    result = run_tool(tool_context(), "logs_logql", {"query": '{namespace="shop"}'})
    assert result.status == "error"
    assert "logs_search" in result.summary
    assert "logs_summary" in result.summary


def test_quiet_window_is_empty(tool_context: Callable[..., ToolContext]) -> None:
    result = run_tool(tool_context(), "logs_summary", {"workspace": "acme-staging"})
    assert result.status == "empty"
