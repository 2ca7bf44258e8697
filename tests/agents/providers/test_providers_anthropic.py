"""The real ChatAnthropic client against a local server speaking the Messages API: parsing,
usage and prices, streaming, retries, fallback to the offline planner, clear errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from providers_wire import (
    Reply,
    WireServer,
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    anthropic_stream_breaking,
    merged,
    text_block,
    tool_use_block,
)

from hexaops.agents.pricing import Usage, cost_usd, usage_of
from hexaops.agents.providers import (
    FallbackChatModel,
    ProviderRejected,
    ProviderUnavailable,
    build_chat_model,
)
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings

PROJECTS = {
    "name": "platform_projects",
    "description": "Projects of a workspace.",
    "input_schema": {"type": "object", "properties": {"workspace": {"type": "string"}}},
}
FAST = {"retry-after-ms": "10"}  # the server asks for short waits: keeps retries quick


def _settings(wire: WireServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model_provider": "anthropic",
        "model_base_url": wire.url,
        "model_api_key": "sk-ant-test",
        **overrides,
    }
    return Settings(**values)


def _overloaded(**headers: str) -> Reply:
    return anthropic_error(529, "overloaded_error", "Overloaded", **(headers or FAST))


def test_tool_calls_and_usage_are_parsed_and_priced(wire: WireServer) -> None:
    call = tool_use_block("platform_workspaces", {"organization": "acme"})
    wire.reply(anthropic_message(text_block("Let me look."), call, usage=(1200, 300)))
    choice = build_chat_model(_settings(wire))

    answer = choice.chat_model.invoke("Which workspaces does acme have?")

    assert answer.tool_calls == [
        {
            "name": "platform_workspaces",
            "args": {"organization": "acme"},
            "id": call["id"],
            "type": "tool_call",
        }
    ]
    assert usage_of(answer) == Usage(1200, 300)
    assert cost_usd(choice.model, usage_of(answer)).usd == pytest.approx(
        0.0054
    )  # 2 $/M in, 10 $/M out
    (seen,) = wire.requests
    assert seen.path == "/v1/messages"
    assert seen.headers["authorization"] == "Bearer sk-ant-test"
    assert seen.body["model"] == "claude-sonnet-5-5"
    assert (
        choice.description
        == f"anthropic claude-sonnet-5-5 at {wire.url} (fallback: offline planner)"
    )


def test_streaming_yields_text_and_tool_call_chunks_with_usage(wire: WireServer) -> None:
    wire.reply(
        anthropic_stream(
            "acme-prod runs 3 projects.", tool=("platform_projects", {"workspace": "acme-prod"})
        )
    )
    model = build_chat_model(_settings(wire)).chat_model.bind_tools([PROJECTS])
    chunks = list(model.stream("What runs in acme-prod?"))

    assert sum(1 for c in chunks if c.text) >= 3  # text arrives in pieces, not at the end
    assert any(isinstance(c, AIMessageChunk) and c.tool_call_chunks for c in chunks)
    message = merged(chunks)
    assert message.text == "acme-prod runs 3 projects."
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("platform_projects", {"workspace": "acme-prod"})
    ]
    assert usage_of(message) == Usage(80, 12)
    assert wire.requests[0].body["stream"] is True


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, "api_error"), (529, "overloaded_error"), (429, "rate_limit_error")],
)
def test_transient_errors_are_retried_until_the_provider_answers(
    wire: WireServer, status: int, kind: str
) -> None:
    failure = anthropic_error(status, kind, "try again", **FAST)
    wire.reply(failure, failure, anthropic_message(text_block("All healthy.")))

    answer = build_chat_model(_settings(wire)).chat_model.invoke("status?")

    assert answer.text == "All healthy."
    assert "degraded" not in answer.response_metadata
    assert len(wire.requests) == 3


def test_retry_after_is_honoured_instead_of_the_backoff(wire: WireServer) -> None:
    wait = {"retry-after-ms": "150"}
    wire.reply(_overloaded(**wait), _overloaded(**wait), anthropic_message(text_block("ok")))
    started = time.monotonic()

    build_chat_model(_settings(wire)).chat_model.invoke("status?")

    elapsed = time.monotonic() - started
    assert len(wire.requests) == 3
    assert 0.3 <= elapsed < 0.7  # the backoff alone would wait ≥ 0.375 s + 0.75 s


def test_exhausted_retries_fall_back_to_the_offline_planner_and_say_so(
    wire: WireServer,
) -> None:
    wire.reply(*[_overloaded() for _ in range(4)])
    model = build_chat_model(_settings(wire)).chat_model

    answer = model.invoke("Is checkout healthy?")

    degraded = "anthropic is unavailable (HTTP 529 overloaded after 3 retries): answered by the offline planner"
    assert answer.response_metadata["degraded"] == degraded
    assert answer.text.startswith(f"⚠ {degraded}.")
    assert len(wire.requests) == 4  # the first attempt and 3 retries

    # The next call does not wait through the retries again: it goes straight to the fallback.
    again = model.invoke("And now?")
    assert again.response_metadata["degraded"] == degraded
    assert len(wire.requests) == 4


def test_a_long_retry_after_ends_the_retries_at_once(wire: WireServer) -> None:
    wire.reply(anthropic_error(429, "rate_limit_error", "slow down", **{"retry-after": "3600"}))

    answer = build_chat_model(_settings(wire)).chat_model.invoke("status?")

    assert len(wire.requests) == 1
    assert (
        "HTTP 429 rate limited, asked to retry after 3600 s" in answer.response_metadata["degraded"]
    )


def test_a_server_that_never_answers_times_out_into_the_fallback(wire: WireServer) -> None:
    wire.reply(Reply(hang=True), Reply(hang=True))
    settings = _settings(wire, model_timeout_seconds=0.3, model_max_retries=1)
    started = time.monotonic()

    answer = build_chat_model(settings).chat_model.invoke("status?")

    assert time.monotonic() - started < 3
    assert len(wire.requests) == 2
    assert answer.response_metadata["degraded"] == (
        "anthropic is unavailable (no answer within 0.3 s after 1 retry): "
        "answered by the offline planner"
    )


def test_without_fallback_the_outage_is_a_clear_error(wire: WireServer) -> None:
    wire.reply(_overloaded(), _overloaded())
    model = build_chat_model(_settings(wire, model_fallback="none", model_max_retries=1))
    assert model.description.endswith("(fallback: none)")

    with pytest.raises(ProviderUnavailable) as raised:
        model.chat_model.invoke("status?")

    assert raised.value.message == (
        "anthropic is unavailable (HTTP 529 overloaded after 1 retry). Try again later, or set "
        "HEXAOPS_MODEL_FALLBACK=offline to answer with the offline planner meanwhile."
    )
    assert len(wire.requests) == 2


def test_an_unreachable_provider_is_a_connection_failure(wire: WireServer) -> None:
    wire.close()  # nothing listens on the port any more
    settings = _settings(wire, model_fallback="none", model_max_retries=0)

    with pytest.raises(
        ProviderUnavailable, match=r"anthropic is unavailable \(connection failed\)"
    ):
        build_chat_model(settings).chat_model.invoke("status?")


def test_a_rejected_key_is_not_retried_and_names_the_variable(wire: WireServer) -> None:
    wire.reply(anthropic_error(401, "authentication_error", "invalid x-api-key"))

    with pytest.raises(ConfigurationError) as raised:
        build_chat_model(_settings(wire)).chat_model.invoke("status?")

    assert raised.value.message == (
        "anthropic rejected the API key (HTTP 401: invalid x-api-key): set "
        "HEXAOPS_MODEL_API_KEY (or ANTHROPIC_API_KEY) to a valid key"
    )
    assert len(wire.requests) == 1  # no retry, no silent fallback


def test_a_bad_request_or_unknown_model_is_not_retried(wire: WireServer) -> None:
    wire.reply(
        anthropic_error(400, "invalid_request_error", "max_tokens: must be positive"),
        anthropic_error(404, "not_found_error", "model: claude-nope"),
    )
    model = build_chat_model(_settings(wire, model="claude-nope")).chat_model

    with pytest.raises(ProviderRejected, match=r"HTTP 400 bad request: max_tokens"):
        model.invoke("status?")
    with pytest.raises(
        ConfigurationError, match=r"does not serve model 'claude-nope'.*HEXAOPS_MODEL"
    ):
        model.invoke("status?")
    assert len(wire.requests) == 2


def test_a_stream_falls_back_before_its_first_chunk(wire: WireServer) -> None:
    wire.reply(_overloaded())
    model = build_chat_model(_settings(wire, model_max_retries=0)).chat_model

    chunks = list(model.stream("status?"))

    degraded = "anthropic is unavailable (HTTP 529 overloaded): answered by the offline planner"
    assert chunks[0].text == f"⚠ {degraded}.\n\n"
    message = merged(chunks)
    assert message.response_metadata["degraded"] == degraded


@pytest.mark.asyncio
async def test_async_calls_retry_and_stream_too(wire: WireServer) -> None:
    wire.reply(
        _overloaded(), anthropic_message(text_block("Recovered.")), anthropic_stream("Hello there")
    )
    model = build_chat_model(_settings(wire)).chat_model

    answer = await model.ainvoke("status?")
    streamed = [chunk.text async for chunk in model.astream("hi")]

    assert answer.text == "Recovered."
    assert "".join(streamed) == "Hello there"
    assert len(wire.requests) == 3


def test_a_stream_that_fails_before_any_text_is_retried(wire: WireServer) -> None:
    wire.reply(anthropic_stream_breaking(), anthropic_stream("Recovered stream."))
    model = build_chat_model(_settings(wire, model_max_retries=1)).chat_model
    assert isinstance(model, FallbackChatModel)
    model.backoff_seconds = 0.01  # no Retry-After on a stream error: keep the backoff short

    text = "".join(chunk.text for chunk in model.stream("status?"))

    assert text == "Recovered stream."
    assert len(wire.requests) == 2


def test_a_stream_that_breaks_off_midway_is_not_patched_up(wire: WireServer) -> None:
    wire.reply(anthropic_stream_breaking(after_text="The checkout"))
    model = build_chat_model(_settings(wire)).chat_model

    seen: list[str] = []
    with pytest.raises(ProviderUnavailable, match=r"stopped answering midway \(overloaded during"):
        seen.extend(chunk.text for chunk in model.stream("status?"))

    assert "".join(seen) == "The "  # what the user saw (first delta); no retry, no second model
    assert len(wire.requests) == 1


@pytest.mark.asyncio
async def test_async_calls_fall_back_and_say_so(wire: WireServer) -> None:
    wire.reply(_overloaded())
    model = build_chat_model(_settings(wire, model_max_retries=0)).chat_model

    answer = await model.ainvoke("status?")
    chunks = [chunk async for chunk in model.astream("status?")]  # the provider is known down

    degraded = "anthropic is unavailable (HTTP 529 overloaded): answered by the offline planner"
    assert answer.response_metadata["degraded"] == degraded
    assert chunks[0].text == f"⚠ {degraded}.\n\n"
    assert len(wire.requests) == 1
