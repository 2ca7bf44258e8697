"""The analytics tool: read-only SQL over the telemetry tables, scoped to the principal."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from pydantic import Field

from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.tools.analytics.sql import ROW_CAP, scope_sql, tenant_parameters
from hexaops.tools.args import ToolArgs
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import BackendUnavailable, Evidence, Outcome, tool


class SqlArgs(ToolArgs):
    sql: str = Field(
        description="One ClickHouse SELECT over metrics, logs and/or events (WITH, UNION, "
        "joins, subqueries allowed), e.g. SELECT pod, count() FROM logs WHERE level = 'ERROR' "
        "AND ts > now() - INTERVAL 1 HOUR GROUP BY pod ORDER BY count() DESC"
    )
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
    workspace: str | None = Field(
        default=None, description="Only this workspace; default: all workspaces you can see."
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


@tool("analytics_sql", "analytics")
def analytics_sql(ctx: ToolContext, args: SqlArgs) -> Outcome:
    """Answer a question the fixed tools do not cover with one read-only ClickHouse SELECT
    over the telemetry tables (your organization's rows only; at most 500 rows):
    metrics(ts, org, workspace, namespace, name, pod, container, labels Map, value),
    logs(ts, org, workspace, namespace, pod, container, level, message, fields Map,
    template_id), events(ts, first_ts, org, workspace, namespace, kind, name, reason, type,
    message, count). Times are UTC DateTime64(3); metric names follow Prometheus
    (container_memory_working_set_bytes, http_requests_total{code}, …). Prefer the metrics
    and logs tools when they answer the question."""
    org = ctx.organization(args.org)
    if args.workspace is not None:
        workspaces = [ctx.workspace(args.workspace, org).name]
    else:
        workspaces = [ws.name for ws in ctx.workspaces(org)]
        if not workspaces:
            raise NotFound(f"you can see no workspace of {org}")
    store = ctx.telemetry()
    sql = scope_sql(args.sql, store.database)
    evidence = [
        Evidence(
            kind="query",
            backend="clickhouse",
            query=sql,
            objects=[f"{org}/{ws}" for ws in workspaces],
        )
    ]
    timeout = max(1, math.ceil(ctx.timeout_seconds))
    try:
        result = store.client.query(
            sql,
            parameters=tenant_parameters(org, workspaces),
            # readonly=2: no writes even if a statement slipped through (settings may still be
            # set, which the limits below need).
            settings={"max_execution_time": timeout, "readonly": 2},
        )
    except ClickHouseError as exc:
        message = " ".join(str(exc).split())[:400]
        if "TIMEOUT_EXCEEDED" in message or "Timeout exceeded" in message:
            raise BackendUnavailable(
                f"the query ran longer than {timeout}s: narrow the time range or aggregate more"
            ) from None
        raise InvalidInput(f"ClickHouse refused the query: {message}") from None
    columns = list(result.column_names)
    rows = [[_json_value(v) for v in row] for row in result.result_rows]
    truncated = len(rows) > ROW_CAP
    rows = rows[:ROW_CAP]
    if not rows:
        return Outcome(
            "the query returned no rows", {"columns": columns, "rows": []}, evidence, True
        )
    summary = f"{len(rows)} rows × {len(columns)} columns ({', '.join(columns)})"
    if truncated:
        summary += f"; truncated at {ROW_CAP} rows: aggregate or add a LIMIT"
    return Outcome(
        summary, {"columns": columns, "rows": rows, "truncated_rows": truncated}, evidence
    )
