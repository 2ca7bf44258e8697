"""Who a Slack user is on the platform: an explicit mapping (HEXAOPS_SLACK_USER_MAP, JSON
`{"U123": "dev@acme.example"}`) first, else the email of their Slack profile (`users.info`)
when a platform user has it. Anyone else is told how to link their account."""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import NotFound, PlatformError
from hexaops.ui.chat.provide import Provided, resolve

log = logging.getLogger(__name__)
PROFILE_TTL_SECONDS: Final = 600  # a changed Slack email counts after at most 10 minutes


def link_help(slack_user: str) -> str:
    return (
        f"I can't tell who you are on hexaops, so I can't act for you. Either set the email of "
        f"your Slack profile to the one of your hexaops account, or ask a hexaops admin to map "
        f'you: add `"{slack_user}": "you@example.com"` to HEXAOPS_SLACK_USER_MAP.'
    )


class SlackUsers:
    """Slack user id → platform principal, looked up as the user acts (never from text)."""

    def __init__(
        self, platform: Provided[Platform], client: WebClient, overrides: dict[str, str]
    ) -> None:
        self._platform, self.client, self.overrides = platform, client, overrides
        self._emails: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def principal(self, slack_user: str) -> Principal | None:
        email = self.overrides.get(slack_user) or self._profile_email(slack_user)
        if not email:
            return None
        try:
            return resolve(self._platform).user(email.strip().lower())
        except NotFound:
            return None
        except PlatformError as exc:
            log.warning("slack user %s (%s): %s", slack_user, email, exc.message)
            return None

    def _profile_email(self, slack_user: str) -> str | None:
        with self._lock:
            cached = self._emails.get(slack_user)
        if cached is not None and time.monotonic() - cached[0] < PROFILE_TTL_SECONDS:
            return cached[1]
        try:
            info = self.client.users_info(user=slack_user)
            profile = (info.get("user") or {}).get("profile") or {}
            email = profile.get("email") or None
        except SlackApiError as exc:  # e.g. missing users:read.email scope: no email
            log.warning("users.info %s failed: %s", slack_user, exc.response.get("error"))
            email = None
        with self._lock:
            self._emails[slack_user] = (time.monotonic(), email)
        return email
