"""One setting picks the provider; `auto` works from the usual key variables and with no key at
all; misconfiguration names the variable to fix and never echoes a secret."""

from __future__ import annotations

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.providers import FallbackChatModel, build_chat_model, resolve_provider
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings, load_settings


def test_auto_prefers_anthropic_then_openai_then_the_offline_planner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_provider(Settings()) == "offline"
    offline = build_chat_model(Settings())
    assert isinstance(offline.chat_model, OfflinePlanner)
    assert (offline.provider, offline.model) == ("offline", "hexaops-offline")
    assert offline.description == "offline planner (no LLM)"
    assert "".join(chunk.text for chunk in offline.chat_model.stream("hello"))  # streams too

    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert resolve_provider(Settings()) == "openai"
    openai = build_chat_model(Settings())
    assert isinstance(openai.chat_model, FallbackChatModel)
    assert isinstance(openai.chat_model.primary, ChatOpenAI)
    assert openai.description == "openai gpt-5.4 (fallback: offline planner)"

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    anthropic = build_chat_model(Settings())
    assert (anthropic.provider, anthropic.model) == ("anthropic", "claude-sonnet-5-5")
    assert isinstance(anthropic.chat_model, FallbackChatModel)
    assert isinstance(anthropic.chat_model.primary, ChatAnthropic)
    assert isinstance(anthropic.chat_model.fallback, OfflinePlanner)

    monkeypatch.setenv("HEXAOPS_MODEL_PROVIDER", "offline")  # an explicit choice wins
    assert build_chat_model(Settings()).provider == "offline"


def test_settings_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEXAOPS_MODEL_PROVIDER", "anthropic")
    monkeypatch.setenv("HEXAOPS_MODEL", "claude-haiku-5-5")
    monkeypatch.setenv("HEXAOPS_MODEL_API_KEY", "sk-ant-configured")
    monkeypatch.setenv("HEXAOPS_MODEL_TIMEOUT_SECONDS", "12")
    monkeypatch.setenv("HEXAOPS_MODEL_MAX_RETRIES", "5")
    monkeypatch.setenv("HEXAOPS_MODEL_FALLBACK", "none")

    choice = build_chat_model(load_settings())

    model = choice.chat_model
    assert isinstance(model, FallbackChatModel)
    assert (model.max_retries, model.timeout_seconds, model.fallback) == (5, 12.0, None)
    primary = model.primary
    assert isinstance(primary, ChatAnthropic)
    assert primary.model == "claude-haiku-5-5"
    assert primary.max_retries == 0  # retries are FallbackChatModel's, one policy for all
    assert primary.anthropic_api_key.get_secret_value() == "sk-ant-configured"
    assert choice.description == "anthropic claude-haiku-5-5 (fallback: none)"


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"model_provider": "anthropic"}, "HEXAOPS_MODEL_API_KEY"),
        ({"model_provider": "openai"}, "HEXAOPS_MODEL_API_KEY"),
        ({"model_provider": "openai-compatible", "model": "llama3.1:8b"}, "HEXAOPS_MODEL_BASE_URL"),
        (
            {"model_provider": "openai-compatible", "model_base_url": "http://vllm:8000/v1"},
            "HEXAOPS_MODEL is required",
        ),
    ],
)
def test_missing_settings_name_the_variable(settings: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        build_chat_model(Settings(**settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("HEXAOPS_MODEL_PROVIDER", "gemini", "HEXAOPS_MODEL_PROVIDER: Input should be 'auto'"),
        (
            "HEXAOPS_MODEL_BASE_URL",
            "localhost:11434",
            "HEXAOPS_MODEL_BASE_URL: Value error, must be an http",
        ),
        (
            "HEXAOPS_MODEL_TIMEOUT_SECONDS",
            "0",
            "HEXAOPS_MODEL_TIMEOUT_SECONDS: Input should be greater",
        ),
        (
            "HEXAOPS_MODEL_FALLBACK",
            "gpt",
            "HEXAOPS_MODEL_FALLBACK: Input should be 'offline' or 'none'",
        ),
        ("HEXAOPS_MODEL_PRICES", "{llama", "HEXAOPS_MODEL_PRICES: Value error, must be JSON"),
        ("HEXAOPS_MODEL_PRICES", '{"llama": {"input": 1}}', "llama: give both input and output"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert problem in raised.value.message


def test_keys_are_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-do-not-print")
    monkeypatch.setenv("HEXAOPS_MODEL_API_KEY", "sk-model-do-not-print")
    settings = Settings()
    choice = build_chat_model(settings)

    for shown in (repr(settings), str(settings.model_dump()), choice.description, repr(choice)):
        assert "do-not-print" not in shown
