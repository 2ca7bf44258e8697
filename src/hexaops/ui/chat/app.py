# mypy: disable-error-code="no-untyped-call"
# (Chainlit's Message/Step/Action/user_session methods carry no annotations.)
"""The Chainlit app of the browser chat (loaded by `mount_chat`, not imported by hexaops).

One browser chat is one signed-in person and one agent session at a time. The agents run
as that person (their principal comes from sign-in, never from the page), and a decision on
a pending write goes through AgentService.resume, which checks who may make it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import chainlit as cl
from starlette.datastructures import Headers

from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Error,
    Notice,
    Routed,
    Token,
    ToolFinished,
    ToolStarted,
)
from hexaops.knowledge.incidents import get_incident, list_incidents
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.ui.chat import SESSION_COOKIE
from hexaops.ui.chat.login import bearer_login, password_login
from hexaops.ui.chat.options import dev_login
from hexaops.ui.chat.registry import services
from hexaops.ui.chat.render import (
    HELP,
    approval_text,
    chart_images,
    citation_texts,
    incident_text,
    incidents_table,
    waiting_text,
)
from hexaops.ui.chat.streaming import in_thread

AUTHOR = "hexaops"
log = logging.getLogger(__name__)


# -- sign-in ---------------------------------------------------------------------------------


@cl.password_auth_callback
async def sign_in(username: str, password: str) -> cl.User | None:
    s = services()
    found = await asyncio.to_thread(password_login, s.platform, s.settings, username, password)
    return _user(found)


async def sign_in_with_token(headers: Headers) -> cl.User | None:
    s = services()
    authorization = headers.get("authorization", "")
    found = await asyncio.to_thread(bearer_login, s.platform, s.settings, authorization)
    return _user(found)


# Chainlit's login page tries the header sign-in on every visit and shows its failure: only
# where an auth proxy sends `Authorization: Bearer` (no dev login). With dev login on, the
# form takes a token in the password field as well.
if not dev_login(services().settings):
    cl.header_auth_callback(sign_in_with_token)


def _user(principal: Principal | None) -> cl.User | None:
    return None if principal is None else cl.User(identifier=principal.id)


def _principal() -> Principal:
    """The signed-in person, looked up again (a removed user loses access at once)."""
    user = cl.user_session.get("user")
    if user is None:
        raise PlatformError("sign in first")
    return services().platform.user(user.identifier)


# -- conversation ----------------------------------------------------------------------------


@cl.on_chat_start
async def start() -> None:
    user = cl.user_session.get("user")
    session = _linked_session()
    who = f"Signed in as {user.identifier}." if user is not None else ""
    await cl.Message(content=who if session else f"{who} {HELP}", author=AUTHOR).send()
    if session:
        await _guard(_continue_session(session))


@cl.on_message
async def on_message(message: cl.Message) -> None:
    text = message.content.strip()
    if text.startswith("/"):
        await _guard(_command(text))
    else:
        await _guard(_ask(message.content))


@cl.action_callback("approve")
async def on_approve(action: cl.Action) -> None:
    await _guard(_decide(action, "approve"))


@cl.action_callback("reject")
async def on_reject(action: cl.Action) -> None:
    await _guard(_decide(action, "reject"))


async def _guard(work: Any) -> None:
    """Every failure is one message with what to do; the chat goes on."""
    try:
        await work
    except PlatformError as exc:
        await cl.ErrorMessage(content=exc.message, author=AUTHOR).send()
    except Exception:  # a bug or a lost database: logged; the person gets one line
        log.exception("browser chat failed")
        await cl.ErrorMessage(
            content="Something went wrong on our side (it is logged); try again, or start a "
            "new session with /new.",
            author=AUTHOR,
        ).send()


async def _ask(text: str) -> None:
    principal = await asyncio.to_thread(_principal)
    session = cl.user_session.get("session") or uuid.uuid4().hex
    agents = services().agents
    start_at = await asyncio.to_thread(agents.message_count, principal, session)
    turn = uuid.uuid4().hex
    await _stream(lambda: agents.ask(principal, text, session, turn_id=turn))
    cl.user_session.set("session", session)
    await _evidence(principal, session, start_at)


async def _decide(action: cl.Action, decision: str) -> None:
    session, interrupt = action.payload.get("session"), action.payload.get("interrupt")
    principal = await asyncio.to_thread(_principal)
    agents = services().agents
    pending = await asyncio.to_thread(agents.pending, principal, str(session))
    if pending is None or pending.interrupt_id != interrupt:
        await _remove_buttons(action)
        await cl.Message(content="This approval was already decided.", author=AUTHOR).send()
        return
    start_at = await asyncio.to_thread(agents.message_count, principal, str(session))
    note = f"{decision}d in the browser chat"
    await _stream(
        lambda: agents.resume(principal, str(session), {"decision": decision, "note": note})
    )
    await _remove_buttons(action)
    cl.user_session.set("session", session)
    await _evidence(principal, str(session), start_at)


async def _remove_buttons(clicked: cl.Action) -> None:
    """Both buttons of a decided approval go (a decision is made once)."""
    interrupt = clicked.payload.get("interrupt")
    for action in cl.user_session.get(f"buttons:{interrupt}") or [clicked]:
        await action.remove()


async def _stream(produce: Callable[[], Iterator[AgentEvent]]) -> None:
    """Show a turn as it happens (see TurnView)."""
    view = TurnView()
    await view.start()
    try:
        async for event in in_thread(produce):
            await view.show(event)
    finally:
        await view.finish()


class TurnView:
    """One turn on the page: first a message naming the specialist, holding the tool steps
    (arguments in, status and summary out); then the answer, streamed token by token.
    (Chainlit shows a message's steps below its text, hence two messages.)"""

    def __init__(self) -> None:
        self.work = cl.Message(content="", author=AUTHOR)
        self.answer: cl.Message | None = None
        self.running: dict[str, list[cl.Step]] = {}  # tool → steps without a result yet
        self.steps = 0

    async def start(self) -> None:
        await self.work.send()

    async def show(self, event: AgentEvent) -> None:
        if isinstance(event, Routed):
            self.work.content = f"Asked the {event.specialist} specialist."
            await self.work.update()
        elif isinstance(event, ToolStarted):
            await self._started(event)
        elif isinstance(event, ToolFinished):
            await self._finished(event)
        elif isinstance(event, Token):
            await self._answer().stream_token(event.text)
        elif isinstance(event, Notice):
            await cl.Message(content=f"⚠ {event.kind}: {event.message}", author=AUTHOR).send()
        elif isinstance(event, ApprovalRequested):
            await _show_approval(event)
        elif isinstance(event, Answer):
            answer = self._answer()
            answer.content = event.text
            await answer.send()  # ends the token stream too
        elif isinstance(event, Error):
            await cl.ErrorMessage(content=event.message, author=AUTHOR).send()

    def _answer(self) -> cl.Message:
        if self.answer is None:
            self.answer = cl.Message(content="", author=AUTHOR)
        return self.answer

    async def _started(self, event: ToolStarted) -> None:
        step = cl.Step(name=event.tool, type="tool", parent_id=self.work.id, show_input="json")
        step.input = event.args
        await step.send()
        self.running.setdefault(event.tool, []).append(step)
        self.steps += 1

    async def _finished(self, event: ToolFinished) -> None:
        running = self.running.get(event.tool) or []
        if running:
            step = running.pop(0)
        else:  # a result without its call (should not happen): still show it
            step = cl.Step(name=event.tool, type="tool", parent_id=self.work.id)
            await step.send()
            self.steps += 1
        step.output = f"{event.status}: {event.summary}"
        step.is_error = event.status == "error"
        await step.update()

    async def finish(self) -> None:
        if self.answer is not None and self.answer.streaming:  # tokens, then no answer
            await self.answer.send()
        for running in self.running.values():  # a write that stopped for approval
            for step in running:
                step.output = "waiting for approval"
                await step.update()
        if not self.work.content and not self.steps:
            await self.work.remove()


async def _show_approval(event: ApprovalRequested) -> None:
    principal = await asyncio.to_thread(_principal)
    agents = services().agents
    org = str(event.request.get("org", ""))
    own_confirmation = event.request.get("action_id") is None
    allowed = own_confirmation or await asyncio.to_thread(agents.may_approve, principal, org)
    if not allowed:
        await cl.Message(content=waiting_text(event), author=AUTHOR).send()
        return
    payload = {"session": event.session_id, "interrupt": event.interrupt_id}
    actions = [
        cl.Action(name="approve", payload=payload, label="Approve", icon="check"),
        cl.Action(name="reject", payload=payload, label="Reject", icon="x"),
    ]
    await cl.Message(content=approval_text(event), actions=actions, author=AUTHOR).send()
    cl.user_session.set(f"buttons:{event.interrupt_id}", actions)


async def _evidence(principal: Principal, session: str, start_at: int) -> None:
    """Charts of the turn's metrics and its sources, as one message after the answer."""
    try:
        results = await asyncio.to_thread(
            services().agents.tool_results, principal, session, start_at
        )
    except PlatformError:  # the turn was refused before its session existed: nothing to show
        return
    images = [
        cl.Image(name=n, content=svg.encode(), mime="image/svg+xml", display="inline")
        for n, svg in chart_images(results)
    ]
    sources = citation_texts(results)
    texts = [cl.Text(name=name, content=body, display="side") for name, body in sources]
    if not images and not texts:
        return
    content = ""
    if texts:
        content = "Sources: " + " · ".join(name for name, _ in sources)
    await cl.Message(content=content, elements=[*images, *texts], author=AUTHOR).send()


# -- commands and sessions -------------------------------------------------------------------


async def _command(text: str) -> None:
    name, _, argument = text.partition(" ")
    argument = argument.strip()
    if name == "/new":
        cl.user_session.set("session", None)
        await cl.Message(content="New session: your next message starts it.", author=AUTHOR).send()
    elif name == "/session" and argument:
        await _continue_session(argument)
    elif name == "/session":
        current = cl.user_session.get("session")
        reply = f"Session `{current}`" if current else "No session yet: ask something."
        await cl.Message(content=reply, author=AUTHOR).send()
    elif name == "/incidents":
        await _incidents()
    elif name == "/incident" and argument.isdigit():
        await _incident(int(argument))
    else:
        await cl.Message(content=HELP, author=AUTHOR).send()


async def _continue_session(session: str) -> None:
    """Replay a session's conversation and its pending approval, then continue it."""
    principal = await asyncio.to_thread(_principal)
    agents = services().agents
    history = await asyncio.to_thread(agents.history, principal, session)  # NotFound: message
    cl.user_session.set("session", session)
    await cl.Message(
        content=f"Continuing session `{session}` ({len(history)} messages).", author=AUTHOR
    ).send()
    for entry in history:
        if entry["role"] == "user":
            said = cl.Message(content=entry["text"], type="user_message", author=principal.id)
        else:
            said = cl.Message(content=entry["text"], author=AUTHOR)
        await said.send()
    pending = await asyncio.to_thread(agents.pending, principal, session)
    if pending is not None:
        await _show_approval(pending)


async def _incidents() -> None:
    principal = await asyncio.to_thread(_principal)
    found = await asyncio.to_thread(list_incidents, services().platform, principal)
    await cl.Message(content=incidents_table(found), author=AUTHOR).send()


async def _incident(incident_id: int) -> None:
    principal = await asyncio.to_thread(_principal)
    found = await asyncio.to_thread(get_incident, services().platform, principal, incident_id)
    await cl.Message(content=incident_text(found), author=AUTHOR).send()


def _linked_session() -> str | None:
    """The session of a `/chat?session=ID` link the browser followed (see mount_chat)."""
    environ = cl.context.session.environ if cl.context.session else {}
    cookie = SimpleCookie()
    try:
        cookie.load(str(environ.get("HTTP_COOKIE", "")))
    except Exception:  # a malformed cookie header: no linked session
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value.isalnum() else None
