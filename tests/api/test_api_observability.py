"""hexaops observes itself: /metrics counts requests (by route template), turns, tool calls,
tokens and approvals; each agent turn is an OpenTelemetry span when tracing is on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings
from hexaops.ui.api import create_app
from hexaops.ui.api.observability import Tracing

Token = Callable[[str], dict[str, str]]


def _samples(api: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_and_traces_of_a_turn(
    platform: Platform, agents: AgentService, api_settings: Settings, token: Token
) -> None:
    spans = InMemorySpanExporter()
    app = create_app(api_settings, platform, agents, tracing=Tracing(None, span_exporter=spans))
    with TestClient(app) as api:
        assert (
            api.post(
                "/api/chat", headers=token("dev@acme.example"), json={"message": "list workspaces"}
            ).status_code
            == 200
        )
        api.get("/api/actions/12345", headers=token("dev@acme.example"))
        samples = _samples(api)

    assert samples[("hexaops_agent_turns_total", (("outcome", "answer"),))] == 1
    tool = (("status", "ok"), ("tool", "platform_workspaces"))
    assert samples[("hexaops_agent_tool_calls_total", tool)] == 1
    assert samples[("hexaops_agent_turns_running", ())] == 0
    assert samples[("hexaops_agent_turns_queued", ())] == 0
    chat = (("method", "POST"), ("route", "/api/chat"), ("status", "200"))
    assert samples[("hexaops_api_requests_total", chat)] == 1
    missing = (("method", "GET"), ("route", "/api/actions/{action_id}"), ("status", "404"))
    assert samples[("hexaops_api_requests_total", missing)] == 1  # the template, not the id

    (span,) = spans.get_finished_spans()
    assert span.name == "agent.ask"
    assert span.attributes is not None
    assert span.attributes["hexaops.outcome"] == "answer"
    assert span.attributes["hexaops.principal"] == "dev@acme.example"


def test_approvals_are_counted(api: TestClient, token: Token) -> None:
    params = {"workspace": "acme-staging", "project": "shop", "name": "catalog"}
    action = api.post(
        "/api/actions",
        headers=token("dev@acme.example"),
        json={"operation": "application.delete", "params": params},
    ).json()
    api.post(f"/api/actions/{action['id']}/reject", headers=token("owner@acme.example"))
    assert _samples(api)[("hexaops_approvals_total", (("decision", "rejected"),))] == 1


def test_tracing_is_off_by_default_and_checks_its_setting() -> None:
    assert not Tracing(None).tracer.start_span("x").is_recording()
    assert Tracing("console").tracer.start_span("x").is_recording()
    with pytest.raises(ConfigurationError, match="HEXAOPS_OTEL_EXPORTER"):
        Tracing("jaeger")
