"""One setting picks the chat model; the same graphs run on every provider.

HEXAOPS_MODEL_PROVIDER=auto prefers Anthropic (ANTHROPIC_API_KEY), then OpenAI (OPENAI_API_KEY),
else the offline planner, so the product works without any key. Real providers are wrapped in a
FallbackChatModel (retries, then the offline planner or ProviderUnavailable; see fallback.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from hexaops.agents.pricing import OFFLINE_MODEL
from hexaops.agents.providers.fallback import FallbackChatModel
from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings

Provider = Literal["anthropic", "openai", "openai-compatible", "offline"]

DEFAULT_MODELS: Final[dict[Provider, str]] = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-5.4",
    "offline": OFFLINE_MODEL,
}
_KEY_VARIABLES: Final[dict[Provider, str]] = {
    "anthropic": "HEXAOPS_MODEL_API_KEY (or ANTHROPIC_API_KEY)",
    "openai": "HEXAOPS_MODEL_API_KEY (or OPENAI_API_KEY)",
    "openai-compatible": "HEXAOPS_MODEL_API_KEY",
}
# Local servers (Ollama, LM Studio) ignore the key, but the OpenAI SDK insists on one.
_NO_KEY: Final = SecretStr("not-needed")


@dataclass(frozen=True)
class ModelChoice:
    """The chat model the agents use, and how to describe it to the user."""

    provider: Provider
    model: str
    chat_model: BaseChatModel
    description: str


def resolve_provider(settings: Settings) -> Provider:
    """The provider HEXAOPS_MODEL_PROVIDER names, or the one `auto` finds keys for."""
    if settings.model_provider != "auto":
        return settings.model_provider
    if settings.anthropic_api_key is not None:
        return "anthropic"
    if settings.openai_api_key is not None:
        return "openai"
    return "offline"


def build_chat_model(settings: Settings) -> ModelChoice:
    """The configured chat model, or ConfigurationError naming the variable to fix."""
    provider = resolve_provider(settings)
    if provider == "offline":
        return ModelChoice("offline", OFFLINE_MODEL, _offline_planner(), "offline planner (no LLM)")

    model = settings.model or DEFAULT_MODELS.get(provider)
    if model is None:
        raise ConfigurationError(
            "HEXAOPS_MODEL is required with HEXAOPS_MODEL_PROVIDER=openai-compatible: the model "
            "name the endpoint serves, e.g. llama3.1:8b"
        )
    primary = _provider_model(settings, provider, model)
    fallback = _offline_planner() if settings.model_fallback == "offline" else None
    guarded = FallbackChatModel(
        primary=primary,
        fallback=fallback,
        provider=provider,
        model_name=model,
        key_variables=_KEY_VARIABLES[provider],
        max_retries=settings.model_max_retries,
        timeout_seconds=settings.model_timeout_seconds,
    )
    where = f" at {settings.model_base_url}" if settings.model_base_url else ""
    degrade = "offline planner" if fallback is not None else "none"
    return ModelChoice(provider, model, guarded, f"{provider} {model}{where} (fallback: {degrade})")


def _provider_model(settings: Settings, provider: Provider, model: str) -> BaseChatModel:
    # Retries are FallbackChatModel's (one policy for all providers): the SDKs' are off.
    common: dict[str, Any] = {"timeout": settings.model_timeout_seconds, "max_retries": 0}
    if settings.model_base_url:
        common["base_url"] = settings.model_base_url
    if provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        key = _api_key(settings.model_api_key or settings.anthropic_api_key, provider)
        return ChatAnthropic(model=model, api_key=key, stream_usage=True, **common)

    from langchain_openai import ChatOpenAI

    if provider == "openai":
        key = _api_key(settings.model_api_key or settings.openai_api_key, provider)
    else:
        if not settings.model_base_url:
            raise ConfigurationError(
                "HEXAOPS_MODEL_BASE_URL is required with HEXAOPS_MODEL_PROVIDER=openai-compatible, "
                "e.g. http://localhost:8000/v1 (vLLM) or http://localhost:11434/v1 (Ollama)"
            )
        # Never OPENAI_API_KEY here: it would be sent to a third-party endpoint.
        key = settings.model_api_key or _NO_KEY
    # Usage in streams (stream_options.include_usage) feeds the cost accounting.
    return ChatOpenAI(model=model, api_key=key, stream_usage=True, **common)


def _api_key(key: SecretStr | None, provider: Provider) -> SecretStr:
    if key is None:
        raise ConfigurationError(
            f"HEXAOPS_MODEL_API_KEY is required for HEXAOPS_MODEL_PROVIDER={provider}: set it "
            f"(or {'ANTHROPIC' if provider == 'anthropic' else 'OPENAI'}_API_KEY), or use "
            "HEXAOPS_MODEL_PROVIDER=offline"
        )
    return key


def _offline_planner() -> BaseChatModel:
    from hexaops.agents.offline import OfflinePlanner  # built alongside; imported when needed

    return OfflinePlanner()
