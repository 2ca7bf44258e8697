"""A turn's tool results reach the interfaces with their sources: the objects and queries a
tool read, or the knowledge passages it found — what `ask --json` cites; a fallback's answer
and a budget's stop reach them as notices."""

from __future__ import annotations

from langchain_core.messages import AIMessage, ToolMessage

from hexaops.agents.events import Notice, ToolFinished, update_events
from hexaops.agents.quoting import quote_tool_result
from hexaops.tools.contract import Evidence, ToolResult


def _finished(result: ToolResult) -> ToolFinished:
    message = ToolMessage(quote_tool_result(result), tool_call_id="c1", name=result.tool)
    (event,) = update_events({"tools": {"messages": [message]}})
    assert isinstance(event, ToolFinished)
    return event


def test_a_tool_result_carries_what_it_read() -> None:
    event = _finished(
        ToolResult(
            tool="metrics_workload",
            status="ok",
            summary="cpu of checkout",
            evidence=[
                Evidence(
                    kind="query",
                    backend="prometheus",
                    query="rate(cpu[5m])",
                    objects=["acme/acme-prod/shop/Deployment/checkout"],
                )
            ],
        )
    )
    assert event.summary == "cpu of checkout"
    assert event.evidence == [
        {
            "kind": "query",
            "backend": "prometheus",
            "query": "rate(cpu[5m])",
            "objects": ["acme/acme-prod/shop/Deployment/checkout"],
        }
    ]


def test_a_knowledge_search_carries_its_passages() -> None:
    hit = {
        "citation": "runbooks/dns.md#flush",
        "document": "runbooks/dns.md",
        "section": "Flush",
        "lines": [3, 9],
        "text": "restart coredns",
    }
    event = _finished(
        ToolResult(tool="knowledge_search", status="ok", summary="1 passage", data=[hit])
    )
    assert event.evidence == [
        {"citation": "runbooks/dns.md#flush", "document": "runbooks/dns.md", "section": "Flush",
         "lines": [3, 9]}
    ]  # fmt: skip


def test_a_fallback_answer_and_a_budget_stop_become_notices() -> None:
    degraded = "anthropic is unavailable (HTTP 529): answered by the offline planner"
    fallback = AIMessage("⚠ ...\nacme has two workspaces", response_metadata={"degraded": degraded})
    limited = AIMessage(
        "This turn reached its limit of 4 steps (HEXAOPS_AGENT_STEPS_PER_TURN).\nAsk again.",
        response_metadata={"finish_reason": "budget", "budget": "limit"},
    )
    events = list(update_events({"model": {"messages": [fallback, limited]}}))
    assert events == [
        Notice(kind="degraded", message=degraded),
        Notice(
            kind="limit",
            message="This turn reached its limit of 4 steps (HEXAOPS_AGENT_STEPS_PER_TURN).",
        ),
    ]
    assert list(update_events({"model": {"messages": [AIMessage("plain")]}})) == []
