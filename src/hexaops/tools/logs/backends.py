"""Where the log tools read logs: Loki (LogQL over HTTP) when configured, else ClickHouse.

Both answer the same questions for a `LogScope` (an organization, the workspaces the
principal may see or the one asked about, optionally a namespace, workload, pod): the lines,
and the templates with the first error. Streams carry these labels on a real platform (the
collector sets them; Loki's tenant is the organization):

    org, workspace, namespace, pod, container, level

— `container` is the workload (application or function) name, `level` the parsed log level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import httpx

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant
from hexaops.platform.telemetry.records import LogRecord
from hexaops.tools.contract import BackendUnavailable
from hexaops.tools.logs.logql import Matcher, quote, regex_alternation, regex_escape
from hexaops.tools.logs.summary import CONTEXT_LINES, FirstError, MinedLogs, mine
from hexaops.tools.logs.templates import ERROR_SEVERITY, SEVERITY, severity

LOKI_MAX_LINES: Final = 5000  # Loki's default max_entries_limit_per_query
TEMPLATE_GROUPS: Final = 2000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)


def levels_from(minimum: str | None) -> list[str] | None:
    """The level names at `minimum` or above (None: all levels)."""
    if minimum is None:
        return None
    floor = severity(minimum)
    return sorted({level for level, rank in SEVERITY.items() if rank >= floor})


@dataclass(frozen=True)
class LogScope:
    """The streams a read covers; `workspaces` were checked visible to the principal."""

    org: str
    workspaces: tuple[str, ...]
    namespace: str | None = None
    container: str | None = None
    pod: str | None = None

    def matchers(self) -> list[Matcher]:
        ws = (
            Matcher("workspace", "=", self.workspaces[0])
            if len(self.workspaces) == 1
            else Matcher("workspace", "=~", regex_alternation(self.workspaces))
        )
        found = [Matcher("org", "=", self.org), ws]
        for name in ("namespace", "container", "pod"):
            value = getattr(self, name)
            if value is not None:
                found.append(Matcher(name, "=", value))
        return found

    def describe(self) -> str:
        parts = [self.org, ",".join(self.workspaces) or "-", self.namespace, self.container]
        where = "/".join(p for p in parts if p)
        return f"{where} pod {self.pod}" if self.pod else where


@dataclass
class LogQLResult:
    """A raw LogQL answer: log lines (streams) or numbers (matrix/vector)."""

    kind: str  # streams | matrix | vector
    lines: list[LogRecord]
    series: list[dict[str, Any]]


class LogBackend(Protocol):
    name: str

    def search(
        self,
        scope: LogScope,
        start: datetime,
        end: datetime,
        *,
        levels: list[str] | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> tuple[list[LogRecord], str]:
        """The latest `limit` matching lines in time order, and the query that found them."""
        ...

    def mine(
        self, scope: LogScope, start: datetime, end: datetime, *, levels: list[str] | None = None
    ) -> tuple[MinedLogs, str]:
        """Templates, level counts and the first error of the scope's lines."""
        ...

    def logql(
        self, scope: LogScope, query: str, start: datetime, end: datetime, limit: int
    ) -> LogQLResult:
        """A raw LogQL query, already tenant-scoped by the caller."""
        ...

    def close(self) -> None: ...


# -- ClickHouse --------------------------------------------------------------------------


class ClickHouseLogs:
    """Logs in the telemetry store's `logs` table; templates come from its `template_id`."""

    name = "clickhouse"

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store  # owned by the context's "telemetry" resource, not closed here

    def close(self) -> None:
        pass

    def _filters(self, scope: LogScope) -> dict[str, Any]:
        return {
            "workspaces": scope.workspaces,
            "namespace": scope.namespace,
            "container": scope.container,
            "pod": scope.pod,
        }

    def search(
        self,
        scope: LogScope,
        start: datetime,
        end: datetime,
        *,
        levels: list[str] | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> tuple[list[LogRecord], str]:
        lines = self.store.query_logs(
            Tenant(scope.org),
            start,
            end,
            levels=levels,
            contains=contains,
            limit=limit,
            **self._filters(scope),
        )
        query = f"logs of {scope.describe()}"
        if levels:
            query += f" level in {','.join(levels)}"
        if contains:
            query += f" message contains {contains!r}"
        return lines, query

    def mine(
        self, scope: LogScope, start: datetime, end: datetime, *, levels: list[str] | None = None
    ) -> tuple[MinedLogs, str]:
        tenant, filters = Tenant(scope.org), self._filters(scope)
        groups = self.store.log_templates(
            tenant, start, end, levels=levels, limit=TEMPLATE_GROUPS, **filters
        )
        mined = MinedLogs()
        for g in groups:
            mined.miner.add(
                g.examples[0], g.level, g.first, g.last, g.count, g.examples, g.workspaces
            )
            mined.levels[g.level] = mined.levels.get(g.level, 0) + g.count
            mined.lines += g.count
        errors = [g for g in groups if severity(g.level) >= ERROR_SEVERITY]
        if errors:
            at = min(g.first for g in errors)
            error_levels = [lv for lv, rank in SEVERITY.items() if rank >= ERROR_SEVERITY]
            first = self.store.query_logs(
                tenant, at, at, levels=error_levels, limit=1, earliest=True, **filters
            )
            if first:
                before = (
                    self.store.query_logs(tenant, start, at - _MS, limit=CONTEXT_LINES, **filters)
                    if at - _MS >= start
                    else []
                )
                after = self.store.query_logs(
                    tenant, at, end, limit=CONTEXT_LINES + 1, earliest=True, **filters
                )
                after = [r for r in after if r != first[0]][:CONTEXT_LINES]
                mined.first_error = FirstError(first[0], before, after)
        return mined, f"logs of {scope.describe()} grouped by template_id, level"

    def logql(
        self, scope: LogScope, query: str, start: datetime, end: datetime, limit: int
    ) -> LogQLResult:
        raise InvalidInput(
            "logs_logql needs a Loki backend (HEXAOPS_LOKI_URL is not set; logs are in "
            "ClickHouse): use logs_search for matching lines or logs_summary for templates"
        )


# -- Loki --------------------------------------------------------------------------------


def _ns(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def _from_ns(value: str) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value) // 1000)


def _record(labels: dict[str, str], ts: str, line: str) -> LogRecord:
    fixed = ("org", "workspace", "namespace", "pod", "container", "level", "detected_level")
    return LogRecord(
        _from_ns(ts),
        labels.get("org", ""),
        labels.get("workspace", ""),
        labels.get("namespace", ""),
        labels.get("pod", ""),
        labels.get("container", ""),
        (labels.get("level") or labels.get("detected_level") or "INFO").upper(),
        line,
        {k: v for k, v in labels.items() if k not in fixed},
    )


class LokiLogs:
    """Loki's `query_range` API; the tenant header is the organization."""

    name = "loki"

    def __init__(self, url: str, tenant_header: str, timeout: float) -> None:
        self.url, self.tenant_header, self.timeout = url.rstrip("/"), tenant_header, timeout
        self.http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def query_range(
        self,
        org: str,
        query: str,
        start: datetime,
        end: datetime,
        limit: int,
        direction: str = "backward",
    ) -> dict[str, Any]:
        """Loki's `data` for one query_range call."""
        step = max(1, int((end - start).total_seconds() // 200))
        params = {
            "query": query,
            "start": str(_ns(start)),
            "end": str(_ns(end)),
            "limit": str(limit),
            "direction": direction,
            "step": f"{step}s",
        }
        try:
            response = self.http.get(
                "/loki/api/v1/query_range", params=params, headers={self.tenant_header: org}
            )
        except httpx.TimeoutException:
            raise BackendUnavailable(
                f"Loki at {self.url} did not answer within {self.timeout:g}s: narrow the "
                "window or the selector, or try again"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"Loki at {self.url} is unreachable: {exc}") from None
        body = response.text.strip()[:500]
        if response.status_code == 400:
            raise InvalidInput(f"Loki refused the query: {body}")
        if response.status_code >= 500:
            raise BackendUnavailable(f"Loki at {self.url} failed ({response.status_code}): {body}")
        if response.status_code != 200:
            raise BackendUnavailable(
                f"Loki at {self.url} answered {response.status_code} (check the URL and the "
                f"tenant header {self.tenant_header}): {body}"
            )
        try:
            payload = response.json()
            data = payload["data"]
        except (ValueError, KeyError, TypeError):
            raise BackendUnavailable(
                f"Loki at {self.url} answered something else than JSON"
            ) from None
        if payload.get("status") != "success" or not isinstance(data, dict):
            raise BackendUnavailable(f"Loki at {self.url} answered status {payload.get('status')}")
        return data

    def _result(self, data: dict[str, Any]) -> LogQLResult:
        kind, result = data.get("resultType", ""), data.get("result") or []
        if kind == "streams":
            lines = [
                _record(stream.get("stream", {}), value[0], value[1])
                for stream in result
                for value in stream.get("values", [])
            ]
            lines.sort(key=lambda r: r.ts)
            return LogQLResult(kind, lines, [])
        if kind == "matrix":
            series = [
                {
                    "labels": s.get("metric", {}),
                    "points": [
                        [datetime.fromtimestamp(float(t), UTC).isoformat(), float(v)]
                        for t, v in s.get("values", [])
                    ],
                }
                for s in result
            ]
            return LogQLResult(kind, [], series)
        if kind == "vector":
            series = [
                {"labels": s.get("metric", {}), "value": float(s.get("value", [0, "nan"])[1])}
                for s in result
            ]
            return LogQLResult(kind, [], series)
        raise BackendUnavailable(f"Loki answered an unknown result type {kind!r}")

    def _selector_query(
        self, scope: LogScope, levels: list[str] | None, contains: str | None
    ) -> str:
        matchers = scope.matchers()
        if levels:
            # The level label as collectors write it; lower-case spellings match too.
            pattern = regex_alternation(levels)
            matchers.append(Matcher("level", "=~", f"(?i)({pattern})"))
        query = "{" + ", ".join(m.render() for m in matchers) + "}"
        if contains:
            query += f" |~ {quote('(?i)' + regex_escape(contains))}"
        return query

    def search(
        self,
        scope: LogScope,
        start: datetime,
        end: datetime,
        *,
        levels: list[str] | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> tuple[list[LogRecord], str]:
        query = self._selector_query(scope, levels, contains)
        result = self._result(self.query_range(scope.org, query, start, end, limit))
        return result.lines[-limit:], query

    def mine(
        self, scope: LogScope, start: datetime, end: datetime, *, levels: list[str] | None = None
    ) -> tuple[MinedLogs, str]:
        # Loki has no template column: mine the latest lines it returns (its per-query cap).
        lines, query = self.search(scope, start, end, levels=levels, limit=LOKI_MAX_LINES)
        mined = mine(lines)
        mined.sampled = len(lines) >= LOKI_MAX_LINES
        return mined, query

    def logql(
        self, scope: LogScope, query: str, start: datetime, end: datetime, limit: int
    ) -> LogQLResult:
        return self._result(self.query_range(scope.org, query, start, end, limit))
