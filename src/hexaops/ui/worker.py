"""The remediation worker: alerts from the event bus → intake → remediation graph → notices.

Each ALERTS event is one Alertmanager alert. Intake dedupes and groups it (one short
transaction); a new incident goes through `Remediator.run` (investigate → policy-bounded fix →
verify → record), blocking work off the event loop. The bus acknowledges the event when the
handler returns — after everything is committed — and redelivers it when the handler fails.
Redelivery is safe: intake knows the alert's fingerprint (no second incident) and the graph is
checkpointed per incident, so a redelivered alert resumes its incident where the failed
delivery stopped, and a finished incident is never run again.

What happened goes out on NOTIFICATIONS: the API forwards it to its WebSocket hub
(`forward_notifications`), and with HEXAOPS_SLACK_ALERT_CHANNEL set, one worker posts it to
Slack (durable consumer "slack": once per notice however many workers run).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final, Literal, TypeVar, get_args

from pydantic import ValidationError

from hexaops.incidents import store
from hexaops.incidents.alerts import Alert
from hexaops.incidents.intake import ingest
from hexaops.incidents.workflow import Remediator, RunResult
from hexaops.platform.bus import ALERTS, NOTIFICATIONS, Event, EventBus, Subscription, open_bus
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.api.notifications import NotificationType, Notifier

log = logging.getLogger(__name__)
T = TypeVar("T")
Decision = Literal["approve", "reject"]

REMEDIATION: Final = "remediation"  # the workers' durable consumer of ALERTS
STOP_GRACE_SECONDS: Final = 60.0  # how long `stop` waits for work already in a thread
SLACK: Final = "slack"  # the durable consumer posting notices to Slack
_TYPES: Final = frozenset(get_args(NotificationType))


async def open_event_bus(settings: Settings) -> EventBus:
    """NATS JetStream at HEXAOPS_NATS_URL, else the process's in-process bus."""
    return await open_bus(settings)


def uses_nats(settings: Settings) -> bool:
    return bool(settings.nats_url)


def check_bus(settings: Settings) -> None:
    """Fail fast, with the bus' actionable message, when NATS is configured but unreachable
    (before a server starts: a failing lifespan would only log a traceback)."""

    async def probe() -> None:
        await (await open_event_bus(settings)).close()

    if uses_nats(settings):
        asyncio.run(probe())


# -- notices -------------------------------------------------------------------------------


def _notice(
    kind: NotificationType, incident: dict[str, Any], text: str, key: str
) -> tuple[dict[str, Any], str]:
    """A NOTIFICATIONS event and its message id (a redelivered alert does not repeat it)."""
    payload = {
        "type": kind,
        "org": incident["org"],
        "at": datetime.now(UTC).isoformat(),
        "data": {"incident": incident, "text": text},
    }
    return payload, f"incident:{incident['id']}:{key}"


def _after_run(result: RunResult, incident: dict[str, Any]) -> tuple[NotificationType, str]:
    i = incident["id"]
    done = {
        "resolved": f"remediated and verified: {incident['title']} — {incident['root_cause']}",
        "awaiting_approval": f"plan ready, waits for an owner or admin: POST "
        f"/api/incidents/{i}/decision or `hexaops incidents approve {i}` — root cause: "
        f"{incident['root_cause']}",
        "escalated": f"escalated to the owners and admins: no safe automatic fix restored "
        f"service — root cause: {incident['root_cause'] or 'unknown'}",
        "rejected": "the remediation plan was rejected: nothing was changed",
    }
    text = f"Incident #{i} ({incident['org']}/{incident['workspace']}) " + done.get(
        result.status, f"is {result.status}"
    )
    return ("incident.resolved" if result.status == "resolved" else "incident.updated"), text


# -- the worker ----------------------------------------------------------------------------


class _Slot:
    """One concurrent consumer: its own remediator (its own DB connection and tool clients)."""

    def __init__(self, platform: Platform, settings: Settings) -> None:
        with ExitStack() as stack:  # closes the store if the remediator cannot start
            telemetry = stack.enter_context(ClickHouseStore.from_settings(settings))
            self.remediator = stack.enter_context(
                Remediator(platform, settings, resources={"telemetry": telemetry})
            )
            self._stack = stack.pop_all()

    def close(self) -> None:
        self._stack.close()


class RemediationWorker:
    """Consumes ALERTS through the durable consumer "remediation" with `concurrency` loops
    (competing consumers: each alert goes to one of them, and to one worker process)."""

    def __init__(
        self,
        platform: Platform,
        settings: Settings,
        bus: EventBus,
        *,
        concurrency: int = 1,
        remediator: Callable[[], Remediator] | None = None,
    ) -> None:
        self.platform, self.settings, self.bus = platform, settings, bus
        self.concurrency = max(1, concurrency)
        self._make = remediator
        self._slots: list[_Slot] = []
        self._remediators: list[Remediator] = []
        self._subscriptions: list[Subscription] = []
        self._running: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        for _ in range(self.concurrency):
            remediator = await asyncio.to_thread(self._remediator)
            self._remediators.append(remediator)
            handler = partial(self.handle, remediator)
            self._subscriptions.append(await self.bus.subscribe(ALERTS, REMEDIATION, handler))
        channel = self.settings.slack_alert_channel
        if channel and self.settings.slack_bot_token:
            poster = SlackNotices(self.settings, str(channel))
            self._subscriptions.append(await self.bus.subscribe(NOTIFICATIONS, SLACK, poster))

    def _remediator(self) -> Remediator:
        if self._make is not None:
            return self._make()
        slot = _Slot(self.platform, self.settings)
        self._slots.append(slot)
        return slot.remediator

    async def stop(self) -> None:
        """Stop consuming (an alert in flight goes back to the bus), let the step running in a
        thread finish (a thread cannot be cancelled), then close the clients."""
        for subscription in self._subscriptions:
            await subscription.stop()
        self._subscriptions.clear()
        if self._running:
            _, late = await asyncio.wait(self._running, timeout=STOP_GRACE_SECONDS)
            if late:
                log.warning("%d remediation step(s) still running at shutdown", len(late))
        for slot in self._slots:
            await asyncio.to_thread(slot.close)
        if self._make is not None:
            for remediator in self._remediators:
                await asyncio.to_thread(remediator.close)
        self._slots.clear()
        self._remediators.clear()

    async def handle(self, remediator: Remediator, event: Event) -> None:
        """One alert, end to end. Raising hands it back to the bus for redelivery."""
        try:
            alert = Alert.model_validate(event.json())
        except (ValueError, ValidationError) as exc:  # not retryable: it will never parse
            log.error("event #%d on %s is not an alert, dropped: %s", event.sequence, ALERTS, exc)
            return
        report = await self._blocking(ingest, self.platform, [alert])
        result = report.results[0]
        log.info("alert %s [%s]: %s", alert.name, alert.fingerprint, result.outcome)
        if result.incident_id is None:
            return
        if result.outcome == "opened":
            await self._announce(result.incident_id, "incident.opened", "opened", "opened")
        elif result.outcome == "resolved":
            key = f"alert-resolved:{alert.fingerprint}:{alert.ends_at}"
            await self._announce(
                result.incident_id, "incident.updated", f"{alert.name} resolved", key
            )
        # A redelivery finds its alert known already ("duplicate"): resume that incident, which
        # the failed delivery may have left half done; the graph skips what is finished.
        resume = result.outcome == "duplicate" and event.delivery > 1
        if result.outcome == "opened" or resume:
            await self._remediate(remediator, result.incident_id)

    async def _remediate(self, remediator: Remediator, incident_id: int) -> None:
        run = await self._blocking(remediator.run, incident_id)
        incident = await self._blocking(self._summary, incident_id)
        kind, text = _after_run(run, incident)
        payload, msg_id = _notice(kind, incident, text, run.status)
        await self.bus.publish(NOTIFICATIONS, payload, msg_id=msg_id)

    async def _announce(
        self, incident_id: int, kind: NotificationType, what: str, key: str
    ) -> None:
        incident = await self._blocking(self._summary, incident_id)
        text = f"Incident #{incident_id} ({incident['org']}/{incident['workspace']}) {what}: "
        payload, msg_id = _notice(kind, incident, text + incident["title"], key)
        await self.bus.publish(NOTIFICATIONS, payload, msg_id=msg_id)

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in a thread. A cancelled handler (the worker stops) stops waiting for it,
        but `stop` waits until it is done before closing what it uses; its event goes back to
        the bus and the redelivery finds the work done (everything here is idempotent)."""
        work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        self._running.add(work)
        work.add_done_callback(self._running.discard)
        return await asyncio.shield(work)

    def _summary(self, incident_id: int) -> dict[str, Any]:
        return _summary(self.platform, incident_id)


class IncidentDecisions:
    """An owner's or admin's approve/reject of a plan waiting for them, from any process: the
    run continues from its checkpoint (execute → verify → record) here, and its outcome goes
    out on NOTIFICATIONS like the worker's. Decisions take turns on one remediator."""

    def __init__(self, platform: Platform, settings: Settings, bus: EventBus) -> None:
        self.platform, self.settings, self.bus = platform, settings, bus
        self._slot: _Slot | None = None
        self._turn = asyncio.Lock()

    async def decide(
        self, principal: Principal, incident_id: int, decision: Decision, note: str = ""
    ) -> RunResult:
        async with self._turn:
            if self._slot is None:
                self._slot = await asyncio.to_thread(_Slot, self.platform, self.settings)
            remediator = self._slot.remediator
            # Shielded: a client that hangs up must not leave the run half done in a thread.
            run = await asyncio.shield(
                asyncio.to_thread(remediator.decide, incident_id, principal, decision, note)
            )
        incident = await asyncio.to_thread(_summary, self.platform, incident_id)
        kind, text = _after_run(run, incident)
        payload, msg_id = _notice(
            kind, incident, f"{text} ({principal.id} {decision}d)", run.status
        )
        await self.bus.publish(NOTIFICATIONS, payload, msg_id=msg_id)
        return run

    async def close(self) -> None:
        async with self._turn:
            if self._slot is not None:
                await asyncio.to_thread(self._slot.close)
                self._slot = None


def _summary(platform: Platform, incident_id: int) -> dict[str, Any]:
    return store.summary(store.row(platform, incident_id))


# -- where notices go ----------------------------------------------------------------------


class SlackNotices:
    """Posts each notice to the configured Slack channel (a failed post is retried by the bus)."""

    def __init__(self, settings: Settings, channel: str) -> None:
        from hexaops.ui.chat.options import public_url
        from hexaops.ui.slack.bot import slack_client

        self.client = slack_client(settings)
        self.channel = channel
        self.link = f"{public_url(settings)}/chat"

    async def __call__(self, event: Event) -> None:
        notice = event.json()
        text = f"[{notice['org']}] {notice['data']['text']} — <{self.link}|open the chat>"
        await asyncio.to_thread(self.client.chat_postMessage, channel=self.channel, text=text)


def notify_durable() -> str:
    """A durable name of this process' forwarder: every API process sees every notice."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32]
    return f"notify-{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def forward_notifications(bus: EventBus, notifier: Notifier) -> Subscription:
    """Forward NOTIFICATIONS to the WebSocket hub of this process, from now on (a new durable
    consumer starts at the stream's beginning: older notices are skipped, not replayed)."""
    since = datetime.now(UTC) - timedelta(seconds=5)

    async def forward(event: Event) -> None:
        notice = event.json()
        if not isinstance(notice, dict) or notice.get("type") not in _TYPES:
            return
        try:
            at = datetime.fromisoformat(str(notice.get("at")))
        except ValueError:
            return
        if at >= since:
            notifier.publish(notice["type"], str(notice.get("org", "")), notice.get("data"))

    return await bus.subscribe(NOTIFICATIONS, notify_durable(), forward)
