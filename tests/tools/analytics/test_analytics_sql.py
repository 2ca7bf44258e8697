"""analytics_sql: read-only, tenant-scoped SQL over the telemetry tables on chDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import hexaops.tools.analytics  # noqa: F401  (registers the tool)
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.platform.telemetry.records import EventRecord, LogRecord
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def logs(store: ClickHouseStore) -> ClickHouseStore:
    records = []
    for org, ws, n in (
        ("acme", "acme-prod", 3),
        ("acme", "acme-staging", 2),
        ("globex", "globex-prod", 4),
    ):
        for i in range(n):
            records.append(
                LogRecord(
                    T0 + timedelta(seconds=i),
                    org,
                    ws,
                    "shop",
                    f"{ws}-pod",
                    "web",
                    "ERROR",
                    f"timeout after {i}ms",
                    {},
                )
            )
    store.write_logs(records)
    store.write_events(
        [
            EventRecord(
                T0,
                "acme",
                "acme-prod",
                "shop",
                "Pod",
                "acme-prod-pod",
                "BackOff",
                "Warning",
                "Back-off restarting",
                3,
            )
        ]
    )
    return store


def _sql(ctx: ToolContext, sql: str, **args: str) -> object:
    return run_tool(ctx, "analytics_sql", {"sql": sql, **args})


def test_a_select_reads_only_the_principals_org(
    tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    result = run_tool(
        tool_context(),
        "analytics_sql",
        {"sql": "SELECT workspace, count() AS n FROM logs GROUP BY workspace ORDER BY n DESC"},
    )
    assert result.status == "ok", result.summary
    assert result.data["columns"] == ["workspace", "n"]
    assert result.data["rows"] == [["acme-prod", 3], ["acme-staging", 2]]
    query = result.evidence[0].query
    assert f"FROM {logs.database}.logs WHERE org = {{t_org: String}}" in query
    assert "acme" not in query  # the tenant is bound, never spliced


def test_or_true_cannot_widen_the_tenant_filter(
    tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    result = run_tool(
        tool_context(),
        "analytics_sql",
        {"sql": "SELECT DISTINCT org FROM logs WHERE org = 'globex' OR 1 = 1"},
    )
    assert result.data["rows"] == [["acme"]]
    qualified = run_tool(
        tool_context(),
        "analytics_sql",
        {"sql": f"SELECT count() FROM {logs.database}.logs AS l WHERE l.org != 'acme'"},
    )
    assert qualified.data["rows"] == [[0]]


def test_joins_ctes_unions_and_the_workspace_argument(
    tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    ctx = tool_context()
    joined = run_tool(
        ctx,
        "analytics_sql",
        {
            "sql": "WITH errs AS (SELECT pod, count() AS n FROM logs GROUP BY pod)"
            " SELECT e.name, e.reason, errs.n FROM events AS e JOIN errs ON errs.pod = e.name"
            " UNION ALL SELECT 'total', '', count() FROM logs"
        },
    )
    assert joined.status == "ok", joined.summary
    assert sorted(joined.data["rows"]) == [["acme-prod-pod", "BackOff", 3], ["total", "", 5]]
    one = run_tool(
        ctx,
        "analytics_sql",
        {"sql": "SELECT count(), uniqExact(template_id) FROM logs", "workspace": "acme-staging"},
    )
    assert one.data["rows"] == [[2, 1]]
    assert one.evidence[0].objects == ["acme/acme-staging"]


def test_rows_are_capped(tool_context: Callable[..., ToolContext], logs: ClickHouseStore) -> None:
    result = run_tool(
        tool_context(budget_tokens=100_000),
        "analytics_sql",
        {"sql": "SELECT a.message FROM logs AS a, logs AS b, logs AS c, logs AS d"},
    )
    assert result.status == "ok", result.summary
    assert len(result.data["rows"]) == 500
    assert result.data["truncated_rows"] is True
    assert "truncated at 500 rows" in result.summary


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("SELECT * FROM system.tables", "database"),
        ("SELECT name FROM system.tables UNION ALL SELECT message FROM logs", "database"),
        ("SELECT * FROM remote('127.0.0.1', default.logs)", "remote"),
        ("SELECT * FROM numbers(10)", "table functions"),
        ("SELECT * FROM url('http://x/', CSV, 'a String')", "url"),
        ("SELECT message FROM logs UNION ALL SELECT message FROM other_db.logs", "other_db"),
        ("SELECT 1 FROM logs; DROP TABLE logs", "exactly one statement"),
        ("DROP TABLE logs", "only SELECT"),
        ("INSERT INTO logs (message) VALUES ('x')", "only SELECT"),
        ("SELECT 1 FROM logs SETTINGS max_execution_time = 1000", "SETTINGS"),
        ("SELECT 1 FROM logs FORMAT JSONEachRow", "FORMAT"),
        ("SELECT file('/etc/passwd')", "file"),
        ("SELECT dictGet('d', 'x', 1) FROM logs", "dictget"),
        ("SELECT count() FROM logs WHERE pod IN system.tables", "IN <table>"),
        ("WITH logs AS (SELECT 1) SELECT * FROM logs", "shadow"),
        ("SELECT * FROM secrets", "unknown table"),
        ("SELECT {o:String} FROM logs", "parameters"),
    ],
)
def test_escapes_are_refused(
    sql: str, why: str, tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    result = run_tool(tool_context(), "analytics_sql", {"sql": sql})
    assert result.error_code == "invalid", result.summary
    assert why in result.summary
    assert logs.row_counts()["logs"] == 9  # nothing was dropped or written


def test_malformed_and_failing_queries_are_clear_errors(
    tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    ctx = tool_context()
    bad = run_tool(ctx, "analytics_sql", {"sql": "SELECT FROM WHERE ((("})
    assert bad.error_code == "invalid"
    assert "cannot parse" in bad.summary
    empty = run_tool(ctx, "analytics_sql", {"sql": "  "})
    assert "empty" in empty.summary
    unknown = run_tool(ctx, "analytics_sql", {"sql": "SELECT no_such_column FROM logs"})
    assert unknown.error_code == "invalid"
    assert "no_such_column" in unknown.summary
    none = run_tool(ctx, "analytics_sql", {"sql": "SELECT * FROM logs WHERE level = 'DEBUG'"})
    assert none.status == "empty"


def test_another_orgs_workspace_is_not_found(
    tool_context: Callable[..., ToolContext], logs: ClickHouseStore
) -> None:
    ctx = tool_context()
    for args in ({"workspace": "globex-prod"}, {"org": "globex"}):
        result = run_tool(ctx, "analytics_sql", {"sql": "SELECT count() FROM logs", **args})
        assert result.error_code == "not_found"
    globex = run_tool(
        tool_context("owner@globex.example"), "analytics_sql", {"sql": "SELECT count() FROM logs"}
    )
    assert globex.data["rows"] == [[4]]
