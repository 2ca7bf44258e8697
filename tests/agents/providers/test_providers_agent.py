"""End to end through `create_agent`: the model asks for our tool over the wire, the agent runs
the real tool as the principal, and the quoted result goes back to the provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents import create_agent
from langchain_anthropic import ChatAnthropic
from providers_wire import (
    WireServer,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    text_block,
    tool_use_block,
)

from hexaops.agents.providers import build_chat_model
from hexaops.agents.quoting import unquote_tool_result
from hexaops.agents.toolkit import langchain_tools
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext

QUESTION: Any = {"messages": [{"role": "user", "content": "Which workspaces does acme have?"}]}


def _tool_result_sent(request_body: dict[str, Any]) -> dict[str, Any]:
    """The tool_result block of the last user turn of a Messages API request."""
    last = request_body["messages"][-1]
    assert last["role"] == "user"
    (block,) = [b for b in last["content"] if b["type"] == "tool_result"]
    return dict(block)


def test_the_agent_runs_our_tool_and_sends_back_the_quoted_result(
    wire: WireServer, tool_context: Callable[..., ToolContext]
) -> None:
    call = tool_use_block("platform_workspaces", {"org": "acme"})
    wire.reply(
        anthropic_message(text_block("Let me look that up."), call),
        anthropic_message(text_block("acme has acme-prod and acme-staging.")),
    )
    model = ChatAnthropic(
        model="claude-sonnet-5-5", base_url=wire.url, api_key="sk-ant-test", max_retries=0
    )
    agent = create_agent(
        model=model, tools=langchain_tools(tool_context(), ["platform_workspaces"])
    )

    result = agent.invoke(QUESTION)

    assert result["messages"][-1].text == "acme has acme-prod and acme-staging."
    first, second = (r.body for r in wire.requests)
    assert [t["name"] for t in first["tools"]] == ["platform_workspaces"]
    sent = _tool_result_sent(second)
    assert sent["tool_use_id"] == call["id"]
    content = sent["content"] if isinstance(sent["content"], str) else sent["content"][0]["text"]
    assert content.startswith('<tool-result tool="platform_workspaces" status="ok">')
    fields = unquote_tool_result(content)
    assert fields is not None
    assert "acme-prod" in fields["summary"]


def test_an_agent_keeps_working_on_the_offline_planner_when_the_provider_is_down(
    wire: WireServer, tool_context: Callable[..., ToolContext]
) -> None:
    wire.reply(
        *[anthropic_error(529, "overloaded_error", "Overloaded", **{"retry-after-ms": "5"})] * 2
    )
    settings = Settings(
        model_provider="anthropic",
        model_base_url=wire.url,
        model_api_key="sk-ant-test",
        model_max_retries=1,
    )
    model = build_chat_model(settings).chat_model
    agent = create_agent(
        model=model, tools=langchain_tools(tool_context(), ["platform_workspaces"])
    )

    result = agent.invoke(QUESTION)

    answers = [m for m in result["messages"] if m.type == "ai"]
    degraded = "anthropic is unavailable (HTTP 529 overloaded after 1 retry): answered by the offline planner"
    assert all(m.response_metadata["degraded"] == degraded for m in answers)
    assert answers[0].tool_calls[0]["name"] == "platform_workspaces"  # tools bound to the fallback
    tool_messages = [m for m in result["messages"] if m.type == "tool"]
    assert '<tool-result tool="platform_workspaces" status="ok">' in tool_messages[0].content
    assert answers[-1].text.startswith(f"⚠ {degraded}.")
    assert len(wire.requests) == 2  # later steps skip the provider while it is known to be down


def test_streamed_agent_tokens_arrive_once(
    wire: WireServer, tool_context: Callable[..., ToolContext]
) -> None:
    wire.reply(
        anthropic_stream("Checking. ", tool=("platform_workspaces", {"org": "acme"})),
        anthropic_stream("acme has two workspaces."),
    )
    settings = Settings(
        model_provider="anthropic", model_base_url=wire.url, model_api_key="sk-ant-test"
    )
    model = build_chat_model(settings).chat_model
    agent = create_agent(
        model=model, tools=langchain_tools(tool_context(), ["platform_workspaces"])
    )

    parts: list[Any] = list(agent.stream(QUESTION, stream_mode="messages"))
    tokens = [chunk.text for chunk, metadata in parts if metadata["langgraph_node"] == "model"]

    assert len(tokens) > 4  # streamed in pieces through the wrapper
    assert "".join(tokens) == "Checking. acme has two workspaces."  # and each piece once
