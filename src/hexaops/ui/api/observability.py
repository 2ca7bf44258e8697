"""Observability of hexaops itself: Prometheus metrics at /metrics, OpenTelemetry traces of
agent turns.

Each app owns its registry (several apps in one process — tests, the bench — never collide).
Traces are off by default; HEXAOPS_OTEL_EXPORTER=console|otlp turns them on (otlp honours the
standard OTEL_EXPORTER_OTLP_* variables).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import NoOpTracer, Span, Status, StatusCode, Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hexaops.platform.errors import ConfigurationError

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_TURN_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


class Metrics:
    """The metrics the API records: requests, turns, tool calls, tokens, cost, approvals,
    and the turn queue (turns waiting for a worker thread, turns running)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "hexaops_api_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "hexaops_api_request_seconds",
            "HTTP request latency (to the end of the response, streams included)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "hexaops_agent_turns", "Agent turns by outcome", ["outcome"], registry=r
        )
        self.turn_seconds = Histogram(
            "hexaops_agent_turn_seconds", "Agent turn duration", buckets=_TURN_BUCKETS, registry=r
        )
        self.tool_calls = Counter(
            "hexaops_agent_tool_calls",
            "Tool calls by tool and status",
            ["tool", "status"],
            registry=r,
        )
        self.tokens = Counter("hexaops_agent_tokens", "Model tokens", ["direction"], registry=r)
        self.cost = Counter("hexaops_agent_cost_usd", "Model cost (priced calls)", registry=r)
        self.approvals = Counter(
            "hexaops_approvals", "Approval decisions made over the API", ["decision"], registry=r
        )
        self.turns_queued = Gauge(
            "hexaops_agent_turns_queued", "Turns waiting for a worker thread", registry=r
        )
        self.turns_running = Gauge(
            "hexaops_agent_turns_running", "Turns running in worker threads", registry=r
        )
        self.websockets = Gauge(
            "hexaops_api_websockets", "Open notification WebSockets", registry=r
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def record_usage(self, usage: dict[str, Any]) -> None:
        self.tokens.labels("input").inc(int(usage.get("input_tokens") or 0))
        self.tokens.labels("output").inc(int(usage.get("output_tokens") or 0))
        self.cost.inc(float(usage.get("cost_usd") or 0.0))


class RequestMetrics:
    """ASGI middleware counting requests by route template (never the raw path: ids in paths
    would make unbounded label sets)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(time.perf_counter() - start)


# -- tracing --------------------------------------------------------------------------------


class Tracing:
    """Traces of agent turns: exporter `none` (default), `console` or `otlp` (HTTP/protobuf)."""

    def __init__(
        self,
        exporter: str | None,
        service_name: str = "hexaops",
        *,
        span_exporter: SpanExporter | None = None,  # e.g. an in-memory one in tests
    ) -> None:
        choice = "custom" if span_exporter is not None else (exporter or "none").lower()
        self._provider: TracerProvider | None = None
        self.tracer: Tracer = NoOpTracer()
        if choice == "none":
            return
        span_exporter = span_exporter or _exporter(choice, exporter)
        self._provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        processor = (
            SimpleSpanProcessor(span_exporter)
            if choice in ("console", "custom")
            else BatchSpanProcessor(span_exporter)
        )
        self._provider.add_span_processor(processor)
        self.tracer = self._provider.get_tracer("hexaops.agents")

    def shutdown(self) -> None:
        """Flush the spans still buffered (called when the app stops)."""
        if self._provider is not None:
            self._provider.shutdown()


def _exporter(choice: str, raw: str | None) -> SpanExporter:
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ConfigurationError(
        f"HEXAOPS_OTEL_EXPORTER: unknown exporter {raw!r}; choose none, console or otlp"
    )


@contextmanager
def turn_span(tracer: Tracer, name: str, attributes: dict[str, Any]) -> Iterator[Span]:
    """A span around one agent turn; the caller adds the outcome and usage as attributes."""
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        try:
            yield span
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
