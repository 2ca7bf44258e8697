"""The Slack bot at the wire: signed Events API and interactivity requests in, a local
stand-in for the Slack Web API capturing what the bot posts. The agents run for real (offline
planner) on the test's platform database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from slack_fake_api import FakeSlack, fake_slack
from slack_sdk.signature import SignatureVerifier
from starlette.testclient import TestClient

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.slack import SlackBot, mount_slack
from hexaops.ui.slack.bot import session_of

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EMAILS = {"U_DEV": "dev@acme.example", "U_OWNER": "owner@acme.example", "U_OUT": "x@else.example"}


class Wire:
    """Signed requests to the bot's endpoint, as Slack sends them."""

    def __init__(self, client: TestClient, slack: FakeSlack, bot: SlackBot) -> None:
        self.client, self.slack, self.bot = client, slack, bot
        self._n = 0

    def post(
        self, body: str, content_type: str, *, age: int = 0, headers: dict[str, str] | None = None
    ) -> Any:
        ts = str(int(time.time()) - age)
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or ""
        return self.client.post(
            "/slack/events",
            content=body.encode(),
            headers={
                "content-type": content_type,
                "x-slack-request-timestamp": ts,
                "x-slack-signature": signature,
                **(headers or {}),
            },
        )

    def mention(self, user: str, text: str, *, event_id: str | None = None, retry: int = 0) -> Any:
        """A new message mentioning the bot; `retry` > 0: Slack redelivering the last one."""
        self._n += 0 if retry else 1
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@UBOT> {text}",
            "ts": f"1700000000.{self._n:06d}",
            "channel": "C1",
        }
        headers = {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
        return self.event(event, event_id or f"Ev{self._n}", **(headers if retry else {}))

    def event(self, event: dict[str, Any], event_id: str, **headers: str) -> Any:
        body = {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        return self.post(json.dumps(body), "application/json", headers=headers)

    def click(self, user: str, button: dict[str, Any], message_ts: str, thread: str) -> Any:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "channel": {"id": "C1"},
            "message": {"ts": message_ts, "thread_ts": thread},
            "trigger_id": "1.2.3",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "hexaops_decision",
                    "value": button["value"],
                    "action_ts": str(time.time()),
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def reply(self, ts: str, done: str = "Working on it…") -> dict[str, Any]:
        """The chat.update that replaced placeholder `ts` (after it says more than `done`)."""
        return self.slack.wait_for("chat.update", lambda p: p.get("ts") == ts)


@pytest.fixture
def wire(
    platform: Platform, store: ClickHouseStore, chdb_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Wire]:
    monkeypatch.setenv("HEXAOPS_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("HEXAOPS_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("HEXAOPS_SLACK_USER_MAP", json.dumps({"U_MAPPED": "viewer@acme.example"}))
    monkeypatch.setenv("HEXAOPS_PUBLIC_URL", "https://ops.example")
    settings = Settings(home=chdb_home, model_provider="offline")
    with (
        fake_slack(EMAILS) as (slack, api_url),
        AgentService(settings, platform, resources={"telemetry": store}) as agents,
    ):
        settings = settings.model_copy(update={"slack_api_url": api_url})
        app = FastAPI()
        bot = mount_slack(app, agents, platform, settings)
        with TestClient(app) as client:
            yield Wire(client, slack, bot)


def placeholder_of(slack: FakeSlack, thread: str) -> str:
    post = slack.wait_for(
        "chat.postMessage", lambda p: p.get("thread_ts") == thread and "Working" in p["text"]
    )
    return str(post["ts"])


def blocks_text(call: dict[str, Any]) -> str:
    return json.dumps(call.get("blocks", []), ensure_ascii=False)


def test_a_mention_is_answered_in_its_thread_as_the_mapped_user(wire: Wire) -> None:
    response = wire.mention("U_DEV", "list my workspaces")
    assert response.status_code == 200
    reply = wire.reply(placeholder_of(wire.slack, "1700000000.000001"))
    assert "acme-prod" in blocks_text(reply)
    assert "platform_workspaces" in blocks_text(reply) or "Steps" in blocks_text(reply)
    assert {c["channel"] for c in wire.slack.of("chat.postMessage")} == {"C1"}


def test_an_owner_approves_a_developers_delete_with_the_button(
    wire: Wire, platform: Platform, owner: Principal
) -> None:
    wire.mention("U_DEV", "delete the application catalog in acme-staging")
    thread = "1700000000.000001"
    ask = wire.reply(placeholder_of(wire.slack, thread))
    actions = next(b for b in ask["blocks"] if b["type"] == "actions")
    approve = next(e for e in actions["elements"] if e["action_id"] == "hexaops_approve")
    assert "Only an owner or admin of acme may decide: owner@acme.example" in blocks_text(ask)
    (action,) = [a for a in platform.list_actions(owner) if a.status == "pending"]
    assert action.id is not None

    # The developer clicks: told who may decide; nothing runs.
    assert wire.click("U_DEV", approve, ask["ts"], thread).status_code == 200
    refusal = wire.slack.wait_for("chat.postEphemeral", lambda p: p["user"] == "U_DEV")
    assert "owner or admin" in refusal["text"]
    assert platform.action(owner, action.id).status == "pending"

    # The owner clicks: the plan is marked approved, the thread gets the result.
    wire.click("U_OWNER", approve, ask["ts"], thread)
    wire.slack.wait_for("chat.update", lambda p: "Approved by owner@acme.example" in blocks_text(p))
    result_ts = str(
        wire.slack.wait_for("chat.postMessage", lambda p: p["text"] == "Continuing…")["ts"]
    )
    result = blocks_text(wire.reply(result_ts))
    assert "Done: `delete application catalog" in result
    assert "`platform_application_delete` ✓" in result
    assert platform.action(owner, action.id).status == "succeeded"

    # A second click (or Slack redelivering it) decides nothing again.
    wire.click("U_OWNER", approve, ask["ts"], thread)
    wire.slack.wait_for("chat.postEphemeral", lambda p: "already decided" in p["text"])
    assert len([a for a in platform.list_actions(owner) if a.id == action.id]) == 1


def test_slack_retries_never_run_a_turn_twice(wire: Wire, platform: Platform) -> None:
    wire.mention("U_DEV", "list my workspaces", event_id="EvSame")
    wire.reply(placeholder_of(wire.slack, "1700000000.000001"))
    wire.mention("U_DEV", "list my workspaces", event_id="EvSame", retry=1)
    # After a restart (nothing in memory), the thread's session shows it was asked already.
    wire.bot.seen = type(wire.bot.seen)()
    wire.mention("U_DEV", "list my workspaces", event_id="EvSame", retry=2)
    time.sleep(1.0)  # give a (wrong) second turn time to post
    posted = [p for p in wire.slack.of("chat.postMessage") if "Working" in p["text"]]
    assert len(posted) == 1


def test_unmapped_people_are_told_how_to_link_and_the_map_overrides(wire: Wire) -> None:
    wire.mention("U_OUT", "list my workspaces")  # a Slack email no platform user has
    told = wire.slack.wait_for("chat.postMessage", lambda p: "HEXAOPS_SLACK_USER_MAP" in p["text"])
    assert '"U_OUT"' in told["text"]
    wire.mention("U_MAPPED", "list my workspaces")  # mapped to viewer@acme.example
    reply = wire.reply(placeholder_of(wire.slack, "1700000000.000002"))
    assert "acme-prod" in blocks_text(reply)
    session = session_of("T1", "C1", "1700000000.000002")
    viewer = wire.bot.users.principal("U_MAPPED")
    assert viewer == wire.bot.agents.platform.user("viewer@acme.example")
    assert viewer is not None
    assert wire.bot.agents.history(viewer, session)[0]["text"] == "list my workspaces"


def test_direct_messages_are_turns_and_the_bots_own_messages_are_not(wire: Wire) -> None:
    dm = {"type": "message", "channel_type": "im", "user": "U_DEV", "channel": "D1"}
    wire.event(dm | {"text": "list my workspaces", "ts": "1700000001.000001"}, "EvDm")
    wire.event(dm | {"text": "echo", "ts": "1700000001.000002", "bot_id": "BBOT"}, "EvBot")
    reply = wire.reply(placeholder_of(wire.slack, "1700000001.000001"))
    assert "acme-prod" in blocks_text(reply)
    time.sleep(0.5)
    assert all(p.get("thread_ts") != "1700000001.000002" for p in wire.slack.of("chat.postMessage"))


BAD = {  # what a request is → the status it gets
    "forged signature": 401,
    "stale timestamp": 401,
    "unsigned": 401,
    "not UTF-8": 400,
    "not JSON": 400,
    "a JSON array": 400,
    "a form payload that is not JSON": 400,
    "a kind of request the bot does not handle": 404,
}


def test_bad_requests_get_a_4xx_and_run_nothing(wire: Wire) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "EvBad", "event": {}})
    now = str(int(time.time()))
    sent: dict[str, Callable[[], Any]] = {
        "forged signature": lambda: wire.client.post(
            "/slack/events",
            content=body,
            headers={
                "content-type": "application/json",
                "x-slack-request-timestamp": now,
                "x-slack-signature": "v0=" + "0" * 64,
            },
        ),
        "stale timestamp": lambda: wire.post(body, "application/json", age=10 * 60),
        "unsigned": lambda: wire.client.post("/slack/events", content=body),
        "not UTF-8": lambda: wire.client.post("/slack/events", content=b"\xff\xfe{"),
        "not JSON": lambda: wire.post("{not json", "application/json"),
        "a JSON array": lambda: wire.post("[1, 2]", "application/json"),
        "a form payload that is not JSON": lambda: wire.post(
            "payload=%7Bnope", "application/x-www-form-urlencoded"
        ),
        "a kind of request the bot does not handle": lambda: wire.post(
            json.dumps({"type": "something_new"}), "application/json"
        ),
    }
    got = {case: send().status_code for case, send in sent.items()}
    assert got == BAD
    assert [m for m, _ in wire.slack.calls if m.startswith("chat.")] == []


def test_the_bot_mounts_on_the_api_app_and_finds_its_services(
    platform: Platform, store: ClickHouseStore, chdb_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On `hexaops serve`'s app the platform and agents exist only once its lifespan runs:
    mounted with None, the bot finds them in `app.state.services`."""
    from hexaops.ui.api import create_app

    monkeypatch.setenv("HEXAOPS_SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("HEXAOPS_SLACK_BOT_TOKEN", "xoxb-test")
    settings = Settings(home=chdb_home, model_provider="offline")
    with (
        fake_slack(EMAILS) as (slack, api_url),
        AgentService(settings, platform, resources={"telemetry": store}) as agents,
    ):
        settings = settings.model_copy(update={"slack_api_url": api_url})
        app = create_app(settings, platform, agents)
        bot = mount_slack(app, None, None, settings)
        with TestClient(app) as client:
            wire = Wire(client, slack, bot)
            assert wire.mention("U_OWNER", "list my workspaces").status_code == 200
            reply = wire.reply(placeholder_of(slack, "1700000000.000001"))
            assert "acme-prod" in blocks_text(reply)
