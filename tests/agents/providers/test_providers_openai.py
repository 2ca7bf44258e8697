"""The real ChatOpenAI client against a local server speaking chat.completions: OpenAI itself and
an OpenAI-compatible endpoint (vLLM, Ollama, LM Studio) chosen by settings alone."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from providers_wire import WireServer, merged, openai_completion, openai_error, openai_stream

from hexaops.agents.pricing import Usage, cost_usd, price_table, usage_of
from hexaops.agents.providers import build_chat_model
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings

PROJECTS = {
    "type": "function",
    "function": {
        "name": "platform_projects",
        "description": "Projects of a workspace.",
        "parameters": {"type": "object", "properties": {"workspace": {"type": "string"}}},
    },
}


def _openai(wire: WireServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model_provider": "openai",
        "model_base_url": f"{wire.url}/v1",
        "model_api_key": "sk-openai-test",
        **overrides,
    }
    return Settings(**values)


def _compatible(wire: WireServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model_provider": "openai-compatible",
        "model_base_url": f"{wire.url}/v1",
        "model": "llama3.1:8b",
        "model_api_key": "sk-local",
        **overrides,
    }
    return Settings(**values)


def test_tool_calls_and_usage_are_parsed_and_priced(wire: WireServer) -> None:
    wire.reply(
        openai_completion(tool=("platform_projects", {"workspace": "acme-prod"}), usage=(1000, 200))
    )
    choice = build_chat_model(_openai(wire))

    answer = choice.chat_model.bind_tools([PROJECTS]).invoke("What runs in acme-prod?")

    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("platform_projects", {"workspace": "acme-prod"})
    ]
    assert str(answer.tool_calls[0]["id"]).startswith("call_")
    assert usage_of(answer) == Usage(1000, 200)
    assert cost_usd(choice.model, usage_of(answer)).usd == pytest.approx(0.0055)  # 2.5 + 15 $/M
    (seen,) = wire.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.body["model"] == "gpt-5.4"
    assert seen.body["tools"][0]["function"]["name"] == "platform_projects"


def test_streaming_yields_text_and_tool_call_chunks_with_usage(wire: WireServer) -> None:
    wire.reply(
        openai_stream(
            "Looking at acme-prod.", tool=("platform_projects", {"workspace": "acme-prod"})
        )
    )
    model = build_chat_model(_openai(wire)).chat_model.bind_tools([PROJECTS])

    chunks = list(model.stream("What runs in acme-prod?"))

    assert sum(1 for c in chunks if c.text) >= 3
    assert any(isinstance(c, AIMessageChunk) and c.tool_call_chunks for c in chunks)
    message = merged(chunks)
    assert message.text == "Looking at acme-prod."
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("platform_projects", {"workspace": "acme-prod"})
    ]
    assert usage_of(message) == Usage(70, 9)
    assert wire.requests[0].body["stream_options"] == {"include_usage": True}


def test_rate_limits_are_retried_and_a_bad_key_is_not(wire: WireServer) -> None:
    wire.reply(
        openai_error(429, "Rate limit reached", **{"retry-after-ms": "10"}),
        openai_completion("Recovered."),
        openai_error(401, "Incorrect API key provided"),
    )
    model = build_chat_model(_openai(wire)).chat_model

    assert model.invoke("status?").text == "Recovered."
    with pytest.raises(ConfigurationError, match=r"HEXAOPS_MODEL_API_KEY \(or OPENAI_API_KEY\)"):
        model.invoke("status?")
    assert len(wire.requests) == 3


def test_a_compatible_endpoint_gets_the_configured_model_and_key(wire: WireServer) -> None:
    wire.reply(
        openai_completion("Hello from llama.", usage=(40, 6)), openai_stream("Streamed too.")
    )
    choice = build_chat_model(_compatible(wire))

    answer = choice.chat_model.invoke("hello")
    streamed = "".join(chunk.text for chunk in choice.chat_model.stream("hello"))

    assert answer.text == "Hello from llama."
    assert streamed == "Streamed too."
    assert [r.body["model"] for r in wire.requests] == ["llama3.1:8b", "llama3.1:8b"]
    assert {r.headers["authorization"] for r in wire.requests} == {"Bearer sk-local"}
    assert choice.description == (
        f"openai-compatible llama3.1:8b at {wire.url}/v1 (fallback: offline planner)"
    )
    # A self-hosted model has no list price: no crash, a note; HEXAOPS_MODEL_PRICES prices it.
    unknown = cost_usd(choice.model, usage_of(answer))
    assert unknown.usd is None
    assert "HEXAOPS_MODEL_PRICES" in (unknown.note or "")
    priced = Settings(model_prices='{"llama3.1:8b": {"input": 0.1, "output": 0.2}}')
    assert cost_usd(choice.model, usage_of(answer), price_table(priced)).usd == pytest.approx(
        (40 * 0.1 + 6 * 0.2) / 1e6
    )


def test_a_compatible_endpoint_never_receives_the_openai_key(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-secret")
    wire.reply(openai_completion("ok"))

    build_chat_model(_compatible(wire, model_api_key=None)).chat_model.invoke("hello")

    assert "sk-real-openai-secret" not in wire.requests[0].headers["authorization"]
