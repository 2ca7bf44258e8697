"""The ClickHouse telemetry store: where the sandbox writes metrics, logs and events, and where
the tools read them back.

One code path for both deployments: clickhouse-connect talks to a ClickHouse server over HTTP,
or to an embedded chDB engine (`chdb:///<HEXAOPS_HOME>/clickhouse`) in this process. chDB allows
one data path per process, so open one client per process and share it between stores; stores
are isolated by ClickHouse database.

Every read takes a tenant filter (organization, optionally workspace) as a required argument:
rows of another organization can never come back, whatever the other arguments say. Only the
platform itself (e.g. the Prometheus backfill export) may read across tenants, and it has to say
so with the explicit `ALL_TENANTS` scope.

The schema is documented in SCHEMA.md next to this file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.records import EventRecord, LogRecord, MetricBatch

if TYPE_CHECKING:
    from hexaops.settings import Settings

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_ROWS: Final = 1_000_000

# Log templates: the variable parts of a message (quoted strings, UUIDs, IPs, hex ids,
# numbers with units, tokens with digits such as pod suffixes) masked as <*>. One regex, valid
# for both Python `re` and ClickHouse's re2 (leftmost-first alternation, no lookarounds), so the
# `template_id` ClickHouse stores and the templates the log tools mine in Python agree.
LOG_MASK_PATTERN: Final = "|".join(
    (
        r'"[^"]*"',
        r"'[^']*'",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b",
        r"\b0[xX][0-9a-fA-F]+\b",
        r"\b[0-9a-fA-F]{16,}\b",
        r"\b\d+(?:\.\d+)?%",
        r"\b\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d|Ki|Mi|Gi|Ti|KiB|MiB|GiB|KB|MB|GB|B)?\b",
        r"\b[A-Za-z_]*\d\w*\b",
    )
)
LOG_MASK_TOKEN: Final = "<*>"


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# The masked message as a ClickHouse expression, and its 64-bit hash: the logs' template id.
LOG_TEMPLATE_SQL: Final = (
    f"replaceRegexpAll(message, {_sql_string(LOG_MASK_PATTERN)}, {_sql_string(LOG_MASK_TOKEN)})"
)
LOG_TEMPLATE_ID_SQL: Final = f"cityHash64({LOG_TEMPLATE_SQL})"

_SCHEMA: Final = (
    """
    CREATE TABLE IF NOT EXISTS {db}.metrics (
        ts DateTime64(3, 'UTC'),
        org LowCardinality(String),
        workspace LowCardinality(String),
        namespace LowCardinality(String),
        name LowCardinality(String),
        pod String,
        container LowCardinality(String),
        labels Map(LowCardinality(String), String),
        value Float64
    ) ENGINE = MergeTree
    PARTITION BY toDate(ts)
    ORDER BY (org, workspace, namespace, name, pod, ts)
    """,
    """
    CREATE TABLE IF NOT EXISTS {db}.logs (
        ts DateTime64(3, 'UTC'),
        org LowCardinality(String),
        workspace LowCardinality(String),
        namespace LowCardinality(String),
        pod String,
        container LowCardinality(String),
        level LowCardinality(String),
        message String,
        fields Map(LowCardinality(String), String)
    ) ENGINE = MergeTree
    PARTITION BY toDate(ts)
    ORDER BY (org, workspace, namespace, ts)
    """,
    # Added after the first release: stores created before get it in place (old parts compute
    # it on read until merged). Computed by ClickHouse at insert (~1 M rows/s) rather than by
    # Python (~140 k lines/s), so the insert path keeps its speed.
    "ALTER TABLE {db}.logs ADD COLUMN IF NOT EXISTS template_id UInt64 MATERIALIZED "
    + LOG_TEMPLATE_ID_SQL,
    """
    CREATE TABLE IF NOT EXISTS {db}.events (
        ts DateTime64(3, 'UTC'),
        first_ts DateTime64(3, 'UTC'),
        org LowCardinality(String),
        workspace LowCardinality(String),
        namespace LowCardinality(String),
        kind LowCardinality(String),
        name String,
        reason LowCardinality(String),
        type LowCardinality(String),
        message String,
        count UInt32
    ) ENGINE = MergeTree
    PARTITION BY toDate(ts)
    ORDER BY (org, workspace, namespace, ts)
    """,
)

_METRIC_COLUMNS: Final = (
    "ts",
    "name",
    "org",
    "workspace",
    "namespace",
    "pod",
    "container",
    "labels",
    "value",
)
_LOG_COLUMNS: Final = (
    "ts",
    "org",
    "workspace",
    "namespace",
    "pod",
    "container",
    "level",
    "message",
    "fields",
)
_EVENT_COLUMNS: Final = (
    "ts",
    "first_ts",
    "org",
    "workspace",
    "namespace",
    "kind",
    "name",
    "reason",
    "type",
    "message",
    "count",
)


@dataclass(frozen=True)
class Tenant:
    """The rows a read may see: one organization, optionally narrowed to one workspace."""

    org: str
    workspace: str | None = None

    def __post_init__(self) -> None:
        # An empty org would match rows written without one; a filter must name a tenant.
        if not isinstance(self.org, str) or not self.org:
            raise InvalidInput("a telemetry tenant needs an organization")
        if self.workspace is not None and (
            not isinstance(self.workspace, str) or not self.workspace
        ):
            raise InvalidInput("a telemetry tenant's workspace must be a name or None")


@dataclass(frozen=True)
class LogTemplateCount:
    """How often one log template occurred at one level in a time window."""

    template_id: int
    level: str
    count: int
    first: datetime
    last: datetime
    examples: list[str]
    workspaces: list[str]


class AllTenants:
    """Platform-wide scope for the platform's own exports (e.g. Prometheus backfill).
    Never hand it to code acting for a principal."""

    def __repr__(self) -> str:
        return "ALL_TENANTS"


ALL_TENANTS: Final = AllTenants()


@dataclass(frozen=True)
class Series:
    """One metric series: its identity and its (ts, value) points in time order."""

    name: str
    org: str
    workspace: str
    namespace: str
    pod: str
    container: str
    labels: dict[str, str]
    points: list[tuple[datetime, float]] = field(default_factory=list)

    def label_set(self) -> dict[str, str]:
        """All labels as Prometheus would show them (empty fixed labels left out)."""
        fixed = {
            "org": self.org,
            "workspace": self.workspace,
            "namespace": self.namespace,
            "pod": self.pod,
            "container": self.container,
        }
        return {k: v for k, v in {**self.labels, **fixed}.items() if v}


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise InvalidInput(f"timestamp {value.isoformat()} has no timezone; telemetry is UTC")
    return (value - _EPOCH) // _MS


def _ms_column(values: Sequence[datetime]) -> list[int]:
    # Converting each datetime costs ~1 µs; a batch repeats few distinct timestamps (one per
    # tick), so convert each once and map — the insert path stays above 1M samples/s.
    ticks = {value: _ms(value) for value in set(values)}
    return list(map(ticks.__getitem__, values))


def _from_ms(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)


def _check_identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise InvalidInput(f"{what} {name!r} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def _scope_clause(scope: Tenant | AllTenants, params: dict[str, Any]) -> str:
    """The tenant predicate of a query, bound as parameters (never spliced into SQL)."""
    if isinstance(scope, AllTenants):
        return "1"
    if not isinstance(scope, Tenant):  # e.g. None from a caller without a principal
        raise InvalidInput("telemetry reads need a tenant filter (org, optionally workspace)")
    params["t_org"] = scope.org
    if scope.workspace is None:
        return "org = {t_org:String}"
    params["t_ws"] = scope.workspace
    return "org = {t_org:String} AND workspace = {t_ws:String}"


def _require_tenant(tenant: Tenant) -> Tenant:
    # Typed as Tenant, but checked at run time too: tool code may pass whatever it was given.
    if not isinstance(tenant, Tenant):
        raise InvalidInput("telemetry reads need a tenant filter (org, optionally workspace)")
    return tenant


def _window(start: datetime, end: datetime, params: dict[str, Any]) -> str:
    params["w_start"] = _ms(start)
    params["w_end"] = _ms(end)
    if params["w_end"] < params["w_start"]:
        raise InvalidInput("the end of a time window must not be before its start")
    return (
        "ts >= fromUnixTimestamp64Milli({w_start:Int64}, 'UTC') "
        "AND ts <= fromUnixTimestamp64Milli({w_end:Int64}, 'UTC')"
    )


def _equals(column: str, value: str | None, params: dict[str, Any]) -> list[str]:
    if value is None:
        return []
    params[f"eq_{column}"] = value
    return [f"{column} = {{eq_{column}:String}}"]


def _one_of(column: str, values: Collection[str] | None, params: dict[str, Any]) -> list[str]:
    if values is None:
        return []
    params[f"in_{column}"] = list(values)
    return [f"{column} IN {{in_{column}:Array(String)}}"]


def _limit(limit: int) -> int:
    if not 0 < limit <= _MAX_ROWS:
        raise InvalidInput(f"limit must be between 1 and {_MAX_ROWS}")
    return limit


class ClickHouseStore:
    """TelemetrySink over ClickHouse (server or embedded chDB), plus the reads tools need."""

    def __init__(self, client: Client, database: str = "hexaops") -> None:
        self.client = client
        self.database = _check_identifier(database, "ClickHouse database")
        self.create_schema()

    @classmethod
    def connect(
        cls, url: str | None = None, *, home: Path | None = None, database: str = "hexaops"
    ) -> ClickHouseStore:
        """A store on `url` (a ClickHouse server, or chdb:///path), or on an embedded chDB
        under `home`/clickhouse when no URL is given."""
        if not url:
            if home is None:
                raise InvalidInput("give a ClickHouse URL or a home directory for embedded chDB")
            path = (home / "clickhouse").expanduser().resolve()
            path.mkdir(parents=True, exist_ok=True)
            url = f"chdb://{path}"  # path is absolute: chdb:///abs/path
        client = clickhouse_connect.get_client(dsn=url)
        return cls(client, database)

    @classmethod
    def from_settings(cls, settings: Settings) -> ClickHouseStore:
        return cls.connect(
            settings.clickhouse_url, home=settings.home, database=settings.clickhouse_database
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------

    def create_schema(self) -> None:
        self.client.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        for ddl in _SCHEMA:
            # replace, not format: the template regex has braces of its own
            self.client.command(ddl.replace("{db}", self.database))

    def drop(self) -> None:
        """Drop the store's database (tests, sandbox resets)."""
        self.client.command(f"DROP DATABASE IF EXISTS {self.database}")

    # -- writes (TelemetrySink) ------------------------------------------------------------

    def write_metrics(self, batch: MetricBatch) -> None:
        n = len(batch.value)
        columns: list[Sequence[Any]] = [
            batch.ts,
            batch.name,
            batch.org,
            batch.workspace,
            batch.namespace,
            batch.pod,
            batch.container,
            batch.labels,
            batch.value,
        ]
        if any(len(c) != n for c in columns):
            raise InvalidInput("a MetricBatch's columns must all have the same length")
        if n == 0:
            return
        columns[0] = _ms_column(batch.ts)  # DateTime64(3) takes integer milliseconds as is
        self._insert("metrics", columns, _METRIC_COLUMNS)

    def write_logs(self, records: list[LogRecord]) -> None:
        if not records:
            return
        columns: list[list[Any]] = [
            _ms_column([r.ts for r in records]),
            [r.org for r in records],
            [r.workspace for r in records],
            [r.namespace for r in records],
            [r.pod for r in records],
            [r.container for r in records],
            [r.level for r in records],
            [r.message for r in records],
            [r.fields for r in records],
        ]
        self._insert("logs", columns, _LOG_COLUMNS)

    def write_events(self, records: list[EventRecord]) -> None:
        if not records:
            return
        columns: list[list[Any]] = [
            _ms_column([r.ts for r in records]),
            _ms_column([r.first_ts or r.ts for r in records]),
            [r.org for r in records],
            [r.workspace for r in records],
            [r.namespace for r in records],
            [r.kind for r in records],
            [r.name for r in records],
            [r.reason for r in records],
            [r.type for r in records],
            [r.message for r in records],
            [r.count for r in records],
        ]
        self._insert("events", columns, _EVENT_COLUMNS)

    def _insert(self, table: str, columns: Sequence[Sequence[Any]], names: Sequence[str]) -> None:
        # Column-oriented: the batches arrive as columns, and ClickHouse stores them so.
        self.client.insert(
            table, columns, column_names=list(names), database=self.database, column_oriented=True
        )

    # -- reads -----------------------------------------------------------------------------

    def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        result = self.client.query(sql, parameters=params)
        return cast("list[tuple[Any, ...]]", result.result_rows)

    def row_counts(self) -> dict[str, int]:
        """Rows per table, platform-wide (benchmarks and operators; not a tenant read)."""
        return {
            table: int(self._rows(f"SELECT count() FROM {self.database}.{table}", {})[0][0])
            for table in ("metrics", "logs", "events")
        }

    def query_metric(
        self,
        tenant: Tenant,
        name: str,
        start: datetime,
        end: datetime,
        *,
        namespace: str | None = None,
        pod: str | None = None,
        container: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int = 100_000,
    ) -> list[Series]:
        """Samples of metric `name` in [start, end] (both inclusive), one Series per label
        set, sorted by series then time. `labels` match exactly; a label the series lacks
        matches "" (as in PromQL). At most `limit` samples come back (the earliest series
        first)."""
        params: dict[str, Any] = {"name": name}
        where = [
            _scope_clause(_require_tenant(tenant), params),
            "name = {name:String}",
            _window(start, end, params),
            *_equals("namespace", namespace, params),
            *_equals("pod", pod, params),
            *_equals("container", container, params),
        ]
        for i, (key, value) in enumerate((labels or {}).items()):
            params[f"lk{i}"], params[f"lv{i}"] = key, value
            where.append(f"labels[{{lk{i}:String}}] = {{lv{i}:String}}")
        params["limit"] = _limit(limit)
        rows = self._rows(
            f"SELECT org, workspace, namespace, pod, container, labels,"
            f" toUnixTimestamp64Milli(ts), value FROM {self.database}.metrics"
            f" WHERE {' AND '.join(where)}"
            " ORDER BY org, workspace, namespace, pod, container, mapSort(labels), ts"
            " LIMIT {limit:UInt32}",
            params,
        )
        series: list[Series] = []
        current: Series | None = None
        for org, ws, ns, pod_, ctr, lbls, ts, value in rows:
            if (
                current is None
                or current.pod != pod_
                or current.container != ctr
                or current.labels != lbls
                or current.namespace != ns
                or current.workspace != ws
                or current.org != org
            ):
                current = Series(name, org, ws, ns, pod_, ctr, dict(lbls))
                series.append(current)
            current.points.append((_from_ms(ts), value))
        return series

    def metric_names(self, scope: Tenant | AllTenants, start: datetime, end: datetime) -> list[str]:
        """Names of the metrics with samples in [start, end], sorted."""
        params: dict[str, Any] = {}
        where = [_scope_clause(scope, params), _window(start, end, params)]
        rows = self._rows(
            f"SELECT DISTINCT name FROM {self.database}.metrics"
            f" WHERE {' AND '.join(where)} ORDER BY name",
            params,
        )
        return [str(r[0]) for r in rows]

    def stream_metrics(
        self,
        scope: Tenant | AllTenants,
        start: datetime,
        end: datetime,
        names: Sequence[str],
        columns: Sequence[str],
    ) -> Iterator[list[Sequence[Any]]]:
        """Column-oriented blocks of the SQL expressions `columns` over the samples of the
        metrics `names` in [start, end], ordered by the position of the name in `names`, then
        series, then time — the order an OpenMetrics exposition needs. `columns` come from
        platform code (e.g. the OpenMetrics line renderer), never from a request."""
        params: dict[str, Any] = {"names": list(names)}
        where = [
            _scope_clause(scope, params),
            _window(start, end, params),
            "name IN {names:Array(String)}",
        ]
        sql = (
            f"SELECT {', '.join(columns)} FROM {self.database}.metrics"
            f" WHERE {' AND '.join(where)}"
            " ORDER BY indexOf({names:Array(String)}, name), org, workspace, namespace, pod,"
            " container, mapSort(labels), ts"
        )
        with self.client.query_column_block_stream(sql, parameters=params) as stream:
            for block in stream:
                yield cast("list[Sequence[Any]]", block)

    def query_logs(
        self,
        tenant: Tenant,
        start: datetime,
        end: datetime,
        *,
        namespace: str | None = None,
        pod: str | None = None,
        container: str | None = None,
        levels: Collection[str] | None = None,
        contains: str | None = None,
        workspaces: Collection[str] | None = None,
        limit: int = 1000,
        earliest: bool = False,
    ) -> list[LogRecord]:
        """Log lines in [start, end]: the latest `limit` matches (the earliest with
        `earliest`), in time order. `contains` is a case-insensitive substring of the message;
        `workspaces` narrows an organization tenant to some of its workspaces."""
        params: dict[str, Any] = {}
        where = [
            _scope_clause(_require_tenant(tenant), params),
            _window(start, end, params),
            *_one_of("workspace", workspaces, params),
            *_equals("namespace", namespace, params),
            *_equals("pod", pod, params),
            *_equals("container", container, params),
            *_one_of("level", levels, params),
        ]
        if contains:
            params["contains"] = contains
            where.append("positionCaseInsensitiveUTF8(message, {contains:String}) > 0")
        params["limit"] = _limit(limit)
        rows = self._rows(
            f"SELECT toUnixTimestamp64Milli(ts), org, workspace, namespace, pod, container,"
            f" level, message, fields FROM {self.database}.logs"
            f" WHERE {' AND '.join(where)} ORDER BY ts {'ASC' if earliest else 'DESC'}"
            " LIMIT {limit:UInt32}",
            params,
        )
        records = [
            LogRecord(_from_ms(ts), org, ws, ns, pod_, ctr, level, message, dict(fields))
            for ts, org, ws, ns, pod_, ctr, level, message, fields in rows
        ]
        return records if earliest else records[::-1]

    def log_templates(
        self,
        scope: Tenant | AllTenants,
        start: datetime,
        end: datetime,
        *,
        workspaces: Collection[str] | None = None,
        namespace: str | None = None,
        pod: str | None = None,
        container: str | None = None,
        levels: Collection[str] | None = None,
        limit: int = 200,
    ) -> list[LogTemplateCount]:
        """The log templates (messages grouped by `template_id`) in [start, end], per level:
        count, first and last time, up to 3 distinct example messages, and the workspaces it
        occurs in. The `limit` most frequent (template, level) groups come back."""
        params: dict[str, Any] = {}
        where = [
            _scope_clause(scope, params),
            _window(start, end, params),
            *_one_of("workspace", workspaces, params),
            *_equals("namespace", namespace, params),
            *_equals("pod", pod, params),
            *_equals("container", container, params),
            *_one_of("level", levels, params),
        ]
        params["limit"] = _limit(limit)
        rows = self._rows(
            "SELECT template_id, level, count() AS n, toUnixTimestamp64Milli(min(ts)),"
            " toUnixTimestamp64Milli(max(ts)), groupUniqArray(3)(message),"
            " groupUniqArray(5)(workspace)"
            f" FROM {self.database}.logs WHERE {' AND '.join(where)}"
            " GROUP BY template_id, level ORDER BY n DESC, template_id LIMIT {limit:UInt32}",
            params,
        )
        return [
            LogTemplateCount(
                int(tid), level, int(n), _from_ms(first), _from_ms(last), list(ex), list(ws)
            )
            for tid, level, n, first, last, ex, ws in rows
        ]

    def query_events(
        self,
        tenant: Tenant,
        start: datetime,
        end: datetime,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        reason: str | None = None,
        type: str | None = None,
        limit: int = 1000,
    ) -> list[EventRecord]:
        """Events whose last timestamp falls in [start, end]: the latest `limit`, in time
        order."""
        params: dict[str, Any] = {}
        where = [
            _scope_clause(_require_tenant(tenant), params),
            _window(start, end, params),
            *_equals("namespace", namespace, params),
            *_equals("kind", kind, params),
            *_equals("name", name, params),
            *_equals("reason", reason, params),
            *_equals("type", type, params),
        ]
        params["limit"] = _limit(limit)
        rows = self._rows(
            f"SELECT toUnixTimestamp64Milli(ts), toUnixTimestamp64Milli(first_ts), org,"
            f" workspace, namespace, kind, name, reason, type, message, count"
            f" FROM {self.database}.events"
            f" WHERE {' AND '.join(where)} ORDER BY ts DESC LIMIT {{limit:UInt32}}",
            params,
        )
        return [
            EventRecord(
                ts=_from_ms(ts),
                org=org,
                workspace=ws,
                namespace=ns,
                kind=kind_,
                name=name_,
                reason=reason_,
                type=type_,
                message=message,
                count=int(count),
                first_ts=_from_ms(first),
            )
            for ts, first, org, ws, ns, kind_, name_, reason_, type_, message, count in reversed(
                rows
            )
        ]
