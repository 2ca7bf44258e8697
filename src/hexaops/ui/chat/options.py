"""Settings the chat and the Slack bot read: secrets unwrapped, empty values as unset."""

from __future__ import annotations

import json
from typing import Any

from hexaops.platform.errors import ConfigurationError
from hexaops.settings import Settings
from hexaops.ui.auth import dev_login_enabled

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def option(settings: Settings, name: str, default: Any = None) -> Any:
    value = getattr(settings, name)
    if value is None or value == "":
        return default
    secret = getattr(value, "get_secret_value", None)  # SecretStr once it is a settings field
    return secret() if callable(secret) else value


def flag(settings: Settings, name: str, default: bool) -> bool:
    value = option(settings, name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def json_map(settings: Settings, name: str) -> dict[str, str]:
    """A JSON object setting of strings (e.g. HEXAOPS_SLACK_USER_MAP)."""
    value = option(settings, name, {})
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f'HEXAOPS_{name.upper()} must be a JSON object like {{"U123": "a@b.example"}} '
                f"({exc})"
            ) from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"HEXAOPS_{name.upper()} must be a JSON object")
    return {str(k): str(v) for k, v in value.items()}


def public_url(settings: Settings) -> str:
    """Where people reach the hexaops web app (links in Slack messages)."""
    return str(option(settings, "public_url", DEFAULT_PUBLIC_URL)).rstrip("/")


def dev_login(settings: Settings) -> bool:
    """The embedded demo's login as a seeded user (the API's rule: HEXAOPS_DEV_LOGIN, by
    default on without an OIDC issuer and an external database)."""
    return dev_login_enabled(settings)


def session_link(settings: Settings, session_id: str, chat_path: str = "/chat") -> str:
    """The browser chat opened on an agent session."""
    return f"{public_url(settings)}{chat_path}?session={session_id}"
