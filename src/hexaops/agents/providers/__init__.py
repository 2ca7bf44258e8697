"""Chat model providers: anthropic, openai, openai-compatible endpoints, the offline planner."""

from hexaops.agents.providers.errors import ProviderRejected, ProviderUnavailable
from hexaops.agents.providers.factory import (
    DEFAULT_MODELS,
    ModelChoice,
    Provider,
    build_chat_model,
    resolve_provider,
)
from hexaops.agents.providers.fallback import FallbackChatModel

__all__ = [
    "DEFAULT_MODELS",
    "FallbackChatModel",
    "ModelChoice",
    "Provider",
    "ProviderRejected",
    "ProviderUnavailable",
    "build_chat_model",
    "resolve_provider",
]
