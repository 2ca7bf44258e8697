"""The log tools against Loki, at the wire: a local HTTP server speaking `query_range`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

import hexaops.tools.logs  # noqa: F401  (registers the tools)
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import run_tool

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@dataclass
class FakeLoki:
    """Answers each request with `reply(params) -> (status, body)`; records the requests."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: Callable[[dict[str, str]], tuple[int, str]] = lambda params: (200, _streams([]))
    delay: float = 0.0


def _streams(streams: list[tuple[dict[str, str], list[tuple[datetime, str]]]]) -> str:
    result = [
        {
            "stream": labels,
            "values": [[str(int(ts.timestamp() * 1e9)), line] for ts, line in values],
        }
        for labels, values in streams
    ]
    return json.dumps({"status": "success", "data": {"resultType": "streams", "result": result}})


@pytest.fixture
def loki() -> Iterator[FakeLoki]:
    fake = FakeLoki()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.requests.append({"path": url.path, "params": params, "headers": self.headers})
            time.sleep(fake.delay)
            status, body = fake.reply(params)
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def loki_context(
    platform: Platform, loki: FakeLoki, tmp_path: Path
) -> Iterator[Callable[..., ToolContext]]:
    contexts: list[ToolContext] = []

    def make(email: str = "dev@acme.example") -> ToolContext:
        settings = Settings(home=tmp_path, loki_url=loki.url)
        ctx = ToolContext(
            platform, platform.user(email), settings, timeout_seconds=1.0, clock=lambda: NOW
        )
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


LABELS = {
    "org": "acme",
    "workspace": "acme-prod",
    "namespace": "shop",
    "pod": "checkout-1",
    "container": "checkout",
}


def test_search_sends_a_scoped_logql_query_with_the_tenant_header(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    t = NOW - timedelta(minutes=5)
    loki.reply = lambda params: (
        200,
        _streams(
            [
                ({**LABELS, "level": "error"}, [(t, "db timeout after 5s")]),
                ({**LABELS, "level": "info"}, [(t + timedelta(seconds=1), "retry timeout ok")]),
            ]
        ),
    )
    result = run_tool(
        loki_context(),
        "logs_search",
        {"workspace": "acme-prod", "project": "shop", "contains": "time.out", "since": "15m"},
    )
    assert result.status == "ok", result.summary
    [request] = loki.requests
    assert request["path"] == "/loki/api/v1/query_range"
    assert request["headers"]["X-Scope-OrgID"] == "acme"
    params = request["params"]
    assert params["query"] == (
        '{org="acme", workspace="acme-prod", namespace="shop"} |~ "(?i)time\\\\.out"'
    )
    assert int(params["end"]) == int(NOW.timestamp() * 1e9)
    assert int(params["start"]) == int((NOW - timedelta(minutes=15)).timestamp() * 1e9)
    assert params["limit"] == "50"
    assert params["direction"] == "backward"
    # newest first, levels from the stream label
    assert "INFO" in result.data[0]
    assert "retry timeout ok" in result.data[0]
    assert "ERROR" in result.data[1]
    assert "acme-prod/shop/checkout-1" in result.data[1]
    assert result.evidence[0].backend == "loki"


def test_logql_injects_tenant_matchers_into_every_selector(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    matrix = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"pod": "checkout-1"}, "values": [[1764471600, "0.5"]]},
            ],
        },
    }
    loki.reply = lambda params: (200, json.dumps(matrix))
    query = (
        'sum by (pod) (rate({namespace="shop", level=~"error|fatal"} |= "timeout" | json'
        ' | line_format "{{.pod}}: {x}" [5m])) / sum by (pod) (rate({namespace=`shop`}[5m]))'
    )
    result = run_tool(loki_context(), "logs_logql", {"query": query})
    assert result.status == "ok", result.summary
    sent = loki.requests[0]["params"]["query"]
    tenant = '{org="acme", workspace=~"acme-prod|acme-staging", '
    assert sent == (
        f'sum by (pod) (rate({tenant}namespace="shop", level=~"error|fatal"}} |= "timeout" | json'
        f' | line_format "{{{{.pod}}}}: {{x}}" [5m])) / sum by (pod) (rate({tenant}'
        'namespace="shop"}[5m]))'
    )
    assert loki.requests[0]["headers"]["X-Scope-OrgID"] == "acme"
    assert result.data == [
        {"labels": {"pod": "checkout-1"}, "points": [["2025-11-30T03:00:00+00:00", 0.5]]}
    ]
    assert result.evidence[0].query == sent


def test_logql_one_workspace_and_own_org_matcher(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    result = run_tool(
        loki_context(),
        "logs_logql",
        {"query": '{org="acme", workspace="acme-prod", pod="x"}', "workspace": "acme-prod"},
    )
    assert result.status == "empty", result.summary
    assert loki.requests[0]["params"]["query"] == (
        '{org="acme", workspace="acme-prod", workspace="acme-prod", pod="x"}'
    )


@pytest.mark.parametrize(
    "query",
    [
        '{org="globex"}',
        '{namespace="web", org=~"glob.*"}',
        'count_over_time({namespace="shop"}[5m]) + count_over_time({org!="acme"}[5m])',
        '{workspace="globex-prod"}',
    ],
)
def test_logql_tenant_escapes_are_refused(
    query: str, loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    result = run_tool(loki_context(), "logs_logql", {"query": query})
    assert result.status == "error"
    assert result.error_code in ("invalid", "not_found")
    assert loki.requests == []


def test_another_orgs_principal_gets_its_own_tenant_header(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    run_tool(loki_context("owner@globex.example"), "logs_logql", {"query": '{pod="api-1"}'})
    request = loki.requests[0]
    assert request["headers"]["X-Scope-OrgID"] == "globex"
    assert request["params"]["query"] == '{org="globex", workspace="globex-prod", pod="api-1"}'
    denied = run_tool(loki_context(), "logs_logql", {"query": "{}", "org": "globex"})
    assert denied.error_code == "not_found"


@pytest.mark.parametrize(
    "query",
    [
        '{namespace="shop"',
        'namespace="shop"} |= "x"',
        "{namespace=shop}",
        '{namespace="shop} |= "x"',
        '{namespace~"shop"}',
        "rate(count_over_time(x[5m]))",
        "",
    ],
)
def test_logql_malformed_queries_are_clear_errors(
    query: str, loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    result = run_tool(loki_context(), "logs_logql", {"query": query})
    assert result.error_code == "invalid", result.summary
    assert "LogQL" in result.summary
    assert loki.requests == []


def test_loki_errors_become_actionable_results(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    ctx = loki_context()
    loki.reply = lambda params: (400, "parse error at line 1, col 12: syntax error: unexpected |")
    bad = run_tool(ctx, "logs_logql", {"query": '{pod="x"} | | json'})
    assert bad.error_code == "invalid"
    assert "parse error at line 1, col 12" in bad.summary

    loki.reply = lambda params: (500, "too many outstanding requests")
    down = run_tool(ctx, "logs_search", {"workspace": "acme-prod"})
    assert down.error_code == "backend_unavailable"
    assert "500" in down.summary
    assert "too many outstanding requests" in down.summary

    loki.reply = lambda params: (200, _streams([]))
    loki.delay = 3.0
    started = time.perf_counter()
    slow = run_tool(ctx, "logs_summary", {"workspace": "acme-prod"})
    assert time.perf_counter() - started < 2.5
    assert slow.error_code == "backend_unavailable"
    assert "did not answer within 1s" in slow.summary


def test_unreachable_loki_is_backend_unavailable(platform: Platform, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, loki_url="http://127.0.0.1:9")
    with ToolContext(
        platform,
        platform.user("dev@acme.example"),
        settings,
        timeout_seconds=1.0,
        clock=lambda: NOW,
    ) as ctx:
        result = run_tool(ctx, "logs_search", {})
    assert result.error_code == "backend_unavailable"
    assert "unreachable" in result.summary


def test_summary_from_loki_lines_finds_the_first_error(
    loki: FakeLoki, loki_context: Callable[..., ToolContext]
) -> None:
    t0 = NOW - timedelta(minutes=30)
    info = [
        (t0 + timedelta(seconds=i), f"GET /api/orders/{i} 200 in {i % 90}ms") for i in range(300)
    ]
    fatal = [(t0 + timedelta(seconds=150, milliseconds=500), "panic: nil map write in cart.go:42")]
    loki.reply = lambda params: (
        200,
        _streams([({**LABELS, "level": "info"}, info), ({**LABELS, "level": "fatal"}, fatal)]),
    )
    result = run_tool(loki_context(), "logs_summary", {"workspace": "acme-prod", "level": "INFO"})
    assert result.status == "ok", result.summary
    assert 'level=~"(?i)(' in loki.requests[0]["params"]["query"]
    data = result.data
    assert data["lines"] == 301
    assert data["templates_total"] == 2
    assert data["templates"][0]["template"] == "panic: nil map write in cart.go:<*>"
    assert data["templates"][1]["count"] == 300
    first = data["first_error"]
    assert "panic: nil map write" in first["line"]
    assert first["before"][-1].endswith("GET /api/orders/150 200 in 60ms")
    assert first["after"][0].endswith("GET /api/orders/151 200 in 61ms")
