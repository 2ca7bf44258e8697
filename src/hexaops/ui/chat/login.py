"""Who signs in to the browser chat: a bearer token (OIDC or dev token, checked by
hexaops.ui.auth) or, in the embedded demo, the dev login as a seeded user.

The dev login takes a platform user's email and the dev password (HEXAOPS_CHAT_DEV_PASSWORD,
default "dev"); it exists only while dev login is enabled (see options.dev_login).
"""

from __future__ import annotations

import hmac
import logging

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.settings import Settings
from hexaops.ui.auth import authenticate
from hexaops.ui.chat.options import dev_login, option

log = logging.getLogger(__name__)
DEFAULT_DEV_PASSWORD = "dev"


def password_login(
    platform: Platform, settings: Settings, username: str, password: str
) -> Principal | None:
    """The login form: a token in the password field, or the dev login."""
    token_user = token_login(platform, settings, password)
    if token_user is not None:
        return token_user if username.strip().lower() in ("", token_user.id.lower()) else None
    if not dev_login(settings):
        return None
    expected = str(option(settings, "chat_dev_password", DEFAULT_DEV_PASSWORD))
    if not hmac.compare_digest(password.encode(), expected.encode()):
        return None
    try:
        return platform.user(username.strip().lower())
    except PlatformError:
        return None


def bearer_login(platform: Platform, settings: Settings, authorization: str) -> Principal | None:
    """`Authorization: Bearer TOKEN` (from an auth proxy or an API client)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token_login(platform, settings, token.strip())


def token_login(platform: Platform, settings: Settings, token: str) -> Principal | None:
    """A token hexaops.ui.auth accepts: OIDC, or a dev token while dev login is on."""
    if token.count(".") != 2:  # not a JWT: spare the verifier
        return None
    try:
        return authenticate(platform, settings, token)
    except PlatformError as exc:
        log.info("chat sign-in refused: %s", exc.message)
        return None
