"""The Slack bot: mentions and direct messages are agent turns, a Slack thread is one agent
session, and approval buttons resume it as whoever clicks (if they may decide).

Every turn runs as the platform user the Slack user maps to (see users.py). Slack wants an
answer within 3 s: Bolt acknowledges at once and runs the listeners in its thread pool; the
reply starts as "working on it" in the thread and is updated with the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Error,
    Notice,
    ToolFinished,
    ToolStarted,
)
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import ConfigurationError, PlatformError
from hexaops.settings import Settings
from hexaops.ui.chat.options import json_map, option, session_link
from hexaops.ui.chat.provide import Provided, resolve
from hexaops.ui.slack.blocks import (
    APPROVE,
    REJECT,
    Block,
    answer_blocks,
    approval_blocks,
    context,
    decided_blocks,
    section,
)
from hexaops.ui.slack.dedupe import SeenEvents
from hexaops.ui.slack.users import SlackUsers, link_help

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://slack.com/api/"
MENTION = re.compile(r"<@[A-Z0-9]+>")
UNEXPECTED = "Something went wrong on our side (it is logged); try again in a moment."


def session_of(team: str, channel: str, thread_ts: str) -> str:
    """The agent session of a Slack thread (stable across restarts; hex, like other ids)."""
    return hashlib.sha256(f"slack:{team}:{channel}:{thread_ts}".encode()).hexdigest()[:32]


def slack_client(settings: Settings) -> WebClient:
    token = option(settings, "slack_bot_token")
    if not token:
        raise ConfigurationError(
            "the Slack bot needs HEXAOPS_SLACK_BOT_TOKEN (Slack app → OAuth & Permissions → "
            "Bot User OAuth Token, xoxb-…)"
        )
    base_url = str(option(settings, "slack_api_url", DEFAULT_API_URL))
    return WebClient(token=str(token), base_url=base_url.rstrip("/") + "/")


class SlackBot:
    def __init__(
        self,
        agents: Provided[AgentService],
        platform: Provided[Platform],
        settings: Settings,
        *,
        client: WebClient | None = None,
        chat_path: str = "/chat",
    ) -> None:
        secret = option(settings, "slack_signing_secret")
        if not secret:
            raise ConfigurationError(
                "the Slack bot needs HEXAOPS_SLACK_SIGNING_SECRET (Slack app → Basic "
                "Information → Signing Secret)"
            )
        self._agents, self.settings, self.chat_path = agents, settings, chat_path
        self.client = client or slack_client(settings)
        self.users = SlackUsers(platform, self.client, json_map(settings, "slack_user_map"))
        self.seen = SeenEvents()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.app = App(
            signing_secret=str(secret),
            client=self.client,
            request_verification_enabled=True,
            token_verification_enabled=False,  # auth.test on the first event, not at start
            process_before_response=False,
        )
        self.app.event("app_mention")(self.on_mention)
        self.app.event("message")(self.on_message)
        self.app.action(APPROVE)(self.on_approve)
        self.app.action(REJECT)(self.on_reject)
        self.app.error(self.on_error)

    @property
    def agents(self) -> AgentService:
        return resolve(self._agents)

    # -- Slack events ----------------------------------------------------------------------

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest) -> None:
        self._turn(event, body, request)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest) -> None:
        # Channel messages reach us as mentions; here only direct messages from people.
        if (
            event.get("channel_type") == "im"
            and not event.get("subtype")
            and not event.get("bot_id")
        ):
            self._turn(event, body, request)

    def on_approve(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._decide(body, action, "approve")

    def on_reject(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        self._decide(body, action, "reject")

    def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack listener failed on %s", body.get("type"), exc_info=error)

    # -- turns -----------------------------------------------------------------------------

    def _turn(self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest) -> None:
        event_id = str(body.get("event_id") or event.get("client_msg_id") or event.get("ts"))
        if not self.seen.first_time(event_id):
            return  # a retry of an event this process handles or handled
        channel, user = str(event.get("channel", "")), str(event.get("user", ""))
        thread = str(event.get("thread_ts") or event.get("ts"))
        if not channel or not user:
            return
        principal = self.users.principal(user)
        if principal is None:
            self._post(channel, thread, link_help(user))
            return
        text = MENTION.sub("", str(event.get("text", ""))).strip()
        session = session_of(str(body.get("team_id", "")), channel, thread)
        retried = bool(request.headers.get("x-slack-retry-num"))
        with self._lock(session):
            if retried and self._already_asked(principal, session, text):
                return
            placeholder = self._post(channel, thread, "Working on it…")
            events = _collect(lambda: self.agents.ask(principal, text, session))
            self._show(channel, thread, placeholder, events, session)

    def _already_asked(self, principal: Principal, session: str, text: str) -> bool:
        """A retry this process has not seen: did the thread's session get this question last?"""
        try:
            said = [
                m["text"] for m in self.agents.history(principal, session) if m["role"] == "user"
            ]
        except PlatformError:
            return False  # no such session yet: nothing ran
        return bool(said) and said[-1].strip() == text

    def _decide(self, body: dict[str, Any], action: dict[str, Any], decision: str) -> None:
        clicker = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        thread = str(message.get("thread_ts") or message.get("ts", ""))
        try:
            value = json.loads(str(action.get("value", "")))
            session, interrupt = str(value["session"]), str(value["interrupt"])
        except (ValueError, KeyError, TypeError):
            return  # not a button of ours
        principal = self.users.principal(clicker)
        if principal is None:
            self._ephemeral(channel, clicker, thread, link_help(clicker))
            return
        with self._lock(session):
            try:
                pending = self.agents.pending(principal, session)
                if pending is None or pending.interrupt_id != interrupt:
                    self._ephemeral(channel, clicker, thread, "This was already decided.")
                    return
                note = f"{decision}d in Slack by {principal.id}"
                events = list(
                    self.agents.resume(principal, session, {"decision": decision, "note": note})
                )
            except PlatformError as exc:  # e.g. Forbidden: not an owner or admin
                self._ephemeral(channel, clicker, thread, exc.message)
                return
            except Exception:
                log.exception("slack decision on session %s failed", session)
                self._ephemeral(channel, clicker, thread, UNEXPECTED)
                return
            self._update(
                channel,
                str(message.get("ts", "")),
                "decided",
                decided_blocks(pending, decision, principal.id),
            )
            self._show(channel, thread, self._post(channel, thread, "Continuing…"), events, session)

    # -- replies ---------------------------------------------------------------------------

    def _show(
        self, channel: str, thread: str, ts: str, events: Iterable[AgentEvent], session: str
    ) -> None:
        """Replace the placeholder `ts` with the turn's outcome."""
        steps: list[str] = []
        notices: list[str] = []
        outcome: AgentEvent | None = None
        for event in events:
            if isinstance(event, ToolStarted):
                steps.append(f"`{event.tool}` …")
            elif isinstance(event, ToolFinished):
                steps = _finish(steps, event)
            elif isinstance(event, Notice):
                notices.append(f"{event.kind}: {event.message}")
            elif isinstance(event, Answer | ApprovalRequested | Error):
                outcome = event
        steps = [s.replace(" …", " waiting for approval") for s in steps]
        link = session_link(self.settings, session, self.chat_path)
        if isinstance(outcome, ApprovalRequested):
            text, blocks = "Approval needed", approval_blocks(outcome, steps)
        elif isinstance(outcome, Answer):
            text, blocks = outcome.text[:300] or "done", answer_blocks(outcome.text, link, steps)
        else:
            message = outcome.message if isinstance(outcome, Error) else "the turn ended early"
            text, blocks = message, [section(f":warning: {message}")]
        blocks += [context(n) for n in notices]
        self._update(channel, ts, text, blocks)

    def _post(self, channel: str, thread: str, text: str) -> str:
        response = self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
        return str(response.get("ts", ""))

    def _update(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("chat.update failed: %s", exc.response.get("error"))

    def _ephemeral(self, channel: str, user: str, thread: str, text: str) -> None:
        self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, text=text)

    def _lock(self, session: str) -> threading.Lock:
        """One turn at a time per thread: a second message waits for the first."""
        with self._locks_guard:
            return self._locks.setdefault(session, threading.Lock())


def _collect(turn: Callable[[], Iterable[AgentEvent]]) -> list[AgentEvent]:
    """A whole turn's events; a failure becomes its Error event (the placeholder must not
    stay "working on it")."""
    try:
        return list(turn())
    except PlatformError as exc:
        return [Error(message=exc.message)]
    except Exception:
        log.exception("slack turn failed")
        return [Error(message=UNEXPECTED)]


def _finish(steps: list[str], event: ToolFinished) -> list[str]:
    mark = "✓" if event.status == "ok" else event.status
    opened = f"`{event.tool}` …"
    if opened in steps:
        steps[steps.index(opened)] = f"`{event.tool}` {mark}"
    else:
        steps.append(f"`{event.tool}` {mark}")
    return steps
