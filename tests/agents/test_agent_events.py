"""A turn's tool results reach the interfaces with their sources: the objects and queries a
tool read, or the knowledge passages it found — what `ask --json` cites."""

from __future__ import annotations

from langchain_core.messages import ToolMessage

from hexaops.agents.events import ToolFinished, update_events
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
