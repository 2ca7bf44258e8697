"""Read-only, tenant-scoped ClickHouse SQL: parse, refuse what could escape, rewrite.

The statement is parsed (sqlglot, ClickHouse dialect), never pattern-matched: exactly one
SELECT (WITH, UNION, subqueries and joins are fine) over the telemetry tables `metrics`,
`logs`, `events` of the store's database. Every reference to one of them is replaced by a
subquery of that table filtered to the principal's organization and visible workspaces — bound
as query parameters, the reference's alias kept — so no predicate the query adds (`OR 1=1`)
can widen what it reads. The result is wrapped in a row cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from hexaops.platform.errors import InvalidInput

TELEMETRY_TABLES: Final = ("metrics", "logs", "events")
ROW_CAP: Final = 500
ORG_PARAM: Final = "t_org"
WORKSPACES_PARAM: Final = "t_ws"
_DIALECT: Final = "clickhouse"

# Functions that read outside the query's tables (files, URLs, other servers, dictionaries,
# other tables by name) or run programs.
_BLOCKED_FUNCTIONS: Final = frozenset(
    {
        "file",
        "url",
        "urlcluster",
        "remote",
        "remotesecure",
        "cluster",
        "clusterallreplicas",
        "s3",
        "s3cluster",
        "gcs",
        "hdfs",
        "azureblobstorage",
        "mysql",
        "postgresql",
        "mongodb",
        "redis",
        "sqlite",
        "jdbc",
        "odbc",
        "input",
        "executable",
        "merge",
        "loop",
        "iceberg",
        "deltalake",
        "hudi",
        "hascolumnintable",
        "filesystem",
    }
)
_BLOCKED_PREFIXES: Final = ("dictget", "dicthas", "joinget")


def _refuse(why: str) -> InvalidInput:
    return InvalidInput(f"analytics_sql refused the query: {why}")


def _parse(sql: str) -> exp.Query:
    if not sql.strip():
        raise _refuse("it is empty; write one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read=_DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"cannot parse the SQL (ClickHouse dialect): {first}") from None
    if len(statements) != 1:
        raise _refuse("write exactly one statement (no ';'-separated statements)")
    root = statements[0]
    if not isinstance(root, exp.Query):
        raise _refuse(f"only SELECT queries are allowed (this parses as {root.key.upper()})")
    return root


def _check(root: exp.Query) -> None:
    for node in root.walk():
        if isinstance(node, exp.DDL | exp.DML | exp.Command | exp.Into):
            raise _refuse(f"only reads are allowed ({node.key.upper()} is not)")
        if node.args.get("settings"):
            raise _refuse("SETTINGS clauses are not allowed (limits are set for you)")
        if node.args.get("format"):
            raise _refuse("FORMAT clauses are not allowed (results come back as rows)")
        if isinstance(node, exp.Placeholder):
            raise _refuse("query parameters ({name:Type}) are not allowed; write the values")
        if isinstance(node, exp.In) and node.args.get("field") is not None:
            raise _refuse("`IN <table>` is not allowed; write IN (SELECT ... FROM ...)")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in _BLOCKED_FUNCTIONS or name.startswith(_BLOCKED_PREFIXES):
                raise _refuse(f"function {name} reads outside the telemetry tables")


def _tenant_subquery(database: str, table: str, alias: str) -> exp.Subquery:
    # MATERIALIZED columns are not part of `*`: name logs.template_id so queries can use it.
    extra = ", template_id" if table == "logs" else ""
    inner = sqlglot.parse_one(
        f"SELECT *{extra} FROM {database}.{table}"
        f" WHERE org = {{{ORG_PARAM}:String}}"
        f" AND workspace IN {{{WORKSPACES_PARAM}:Array(String)}}",
        read=_DIALECT,
    )
    return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def scope_sql(sql: str, database: str, *, row_cap: int = ROW_CAP) -> str:
    """`sql` rewritten to read only the rows of the tenant bound as `{t_org:String}` and
    `{t_ws:Array(String)}`, capped at `row_cap + 1` rows (one more tells truncation).
    Raises InvalidInput saying why a query is refused."""
    root = _parse(sql)
    _check(root)
    ctes = {cte.alias_or_name for cte in root.find_all(exp.CTE)}
    if shadowing := ctes & set(TELEMETRY_TABLES):
        raise _refuse(f"a WITH name may not shadow a telemetry table ({', '.join(shadowing)})")
    for table in list(root.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            raise _refuse(
                "table functions (numbers, url, remote, file, …) are not allowed; "
                f"read {', '.join(TELEMETRY_TABLES)}"
            )
        name, db = table.name, table.db
        if table.catalog or (db and db != database):
            raise _refuse(
                f"only the telemetry tables of database {database} can be read, not "
                f"{table.sql(dialect=_DIALECT)}"
            )
        if not db and name in ctes:
            continue
        if name not in TELEMETRY_TABLES:
            raise _refuse(f"unknown table {name!r}: the tables are {', '.join(TELEMETRY_TABLES)}")
        scoped = _tenant_subquery(database, name, table.alias or name)
        target: exp.Expression = table
        if isinstance(table.parent, exp.Final):
            target = table.parent  # FINAL applies to tables, not to the filtered subquery
        if table.args.get("sample") or table.args.get("joins") or table.args.get("laterals"):
            raise _refuse("SAMPLE and table hints are not supported; remove them")
        target.replace(scoped)
    inner = root.sql(dialect=_DIALECT)
    return f"SELECT * FROM ({inner}) LIMIT {row_cap + 1}"


def tenant_parameters(org: str, workspaces: Sequence[str]) -> dict[str, object]:
    return {ORG_PARAM: org, WORKSPACES_PARAM: list(workspaces)}
