"""The agent team as one LangGraph agent loop: a supervisor routes each turn to one specialist.

    START → model ⇄ tools → END      (one `create_agent` loop; the `Team` middleware routes)

Each turn's first model call is the supervisor's: the model with one handoff tool per
specialist (`route_to_<name>`, no arguments, the specialist's description), seeing only the
conversation's questions and answers. Its pick configures the rest of the turn: every later
model call gets that specialist's system prompt and tools, and only those tools run (a call to
any other is answered as not available to it). The supervisor's own text answer (greetings,
help) ends the turn. This is LangChain's handoff pattern — state-driven prompt and tools —
rather than a subgraph per specialist: one graph run per turn, no nested run with its own loop,
checkpoint namespace and threads. Its hooks are written once (`hooks.drive`/`adrive`) for the
sync runs (CLI, chat, Slack) and the async ones (the API).

The caller's middleware (guardrails, accounting) wraps every model call, the supervisor's
included, and every tool call; the approval middleware sits innermost, next to the tools. The
graph holds no principal: tools and middleware read `runtime.context: AgentContext`, so it is
compiled once and serves everyone, on every provider (incl. the offline planner).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NotRequired

from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Checkpointer, Command
from pydantic import BaseModel, ConfigDict

from hexaops.agents.approvals import ApprovalMiddleware, AutomationPolicy
from hexaops.agents.context import AgentContext
from hexaops.agents.hooks import (
    Flow,
    Stack,
    adrive,
    drive,
    hooks_inline_unless_traced,
    stackable,
)
from hexaops.agents.specialists import Specialist, specialists
from hexaops.agents.toolkit import agent_tools

HANDOFF_PREFIX = "route_to_"

_SUPERVISOR_PROMPT = """\
You are hexaops, an operations assistant for a multi-tenant Kubernetes platform. Route each
request to the one specialist that handles it by calling its route_to_* tool. Answer yourself,
briefly and without tools, only greetings and questions about what you can do."""


_Call = ModelRequest[AgentContext]
_Reply = ModelResponse[Any]


class TurnState(AgentState[Any]):
    specialist: NotRequired[str | None]  # who answers the latest turn (None: the supervisor)
    org: NotRequired[str]  # the organization the session belongs to (set by the service)
    started_by: NotRequired[str]


class _NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def handoff_tool(specialist: Specialist) -> BaseTool:
    """`route_to_<name>`: the supervisor's way to hand the turn over (never run as a tool)."""

    def route() -> str:
        return f"routed to {specialist.name}"

    return StructuredTool.from_function(
        func=route,
        name=HANDOFF_PREFIX + specialist.name,
        description=specialist.description,
        args_schema=_NoArgs,
    )


def _dialogue(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """What the supervisor sees: the questions and the answers, no tool traffic."""
    return [
        m
        for m in messages
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls)
    ]


def _turn_started(messages: Sequence[AnyMessage]) -> bool:
    """Whether the model already answered since the latest question (the turn is routed)."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return False
        if isinstance(message, AIMessage):
            return True
    return False


class Team(AgentMiddleware[TurnState, AgentContext, Any]):
    """The supervisor and its specialists, as the outermost middleware of one agent loop."""

    state_schema = TurnState

    def __init__(self, members: Sequence[Specialist]) -> None:
        super().__init__()
        self.members = {s.name: s for s in members}
        self.handoffs = [handoff_tool(s) for s in members]
        self.allowed = {s.name: frozenset(s.tools) for s in members}
        self.prompts = {s.name: SystemMessage(s.system_prompt) for s in members}
        self.supervisor_prompt = SystemMessage(_SUPERVISOR_PROMPT)

    def wrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | ExtendedModelResponse[Any]:
        return drive(self._turn(request), handler)

    async def awrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any] | ExtendedModelResponse[Any]:
        return await adrive(self._turn(request), handler)

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        return self._refusal(request) or handler(request)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        return self._refusal(request) or await handler(request)

    def _turn(self, request: _Call) -> Flow[_Call, _Reply, _Reply | ExtendedModelResponse[Any]]:
        """A model call of the turn: the supervisor's routing first, then the specialist's."""
        current = request.state.get("specialist")
        if _turn_started(request.messages) and current in self.members:
            return (yield from self._specialist(current, request))
        routing = yield request.override(
            system_message=self.supervisor_prompt,
            tools=list(self.handoffs),
            messages=_dialogue(request.messages),
        )
        target = self._target(routing)
        if target is None:  # the supervisor answers itself
            return ExtendedModelResponse(
                model_response=ModelResponse(result=[_answer(routing)]),
                command=Command(update={"specialist": None}),
            )
        return ExtendedModelResponse(
            model_response=(yield from self._specialist(target, request)),
            command=Command(update={"specialist": target}),
        )

    def _refusal(self, request: ToolCallRequest) -> ToolMessage | None:
        """A tool call outside the turn's specialist's tools is refused: nothing runs."""
        specialist = request.state.get("specialist") if isinstance(request.state, dict) else None
        name = str(request.tool_call["name"])
        if name in self.allowed.get(str(specialist), frozenset()):
            return None
        return ToolMessage(
            content=f"Not run: {name} is not one of the {specialist} specialist's tools.",
            tool_call_id=request.tool_call["id"] or "",
            name=name,
            status="error",
        )

    def _specialist(
        self, name: str, request: ModelRequest[AgentContext]
    ) -> Flow[_Call, _Reply, _Reply]:
        """The model call as specialist `name`: its prompt, its tools; its messages carry its
        name (who asked a clarifying question answers the reply)."""
        allowed = self.allowed[name]
        tools = [t for t in request.tools if getattr(t, "name", None) in allowed]
        response = yield request.override(system_message=self.prompts[name], tools=tools)
        for message in response.result:
            if isinstance(message, AIMessage):
                message.name = name
        return response

    def _target(self, routing: ModelResponse[Any]) -> str | None:
        for message in routing.result:
            for call in getattr(message, "tool_calls", None) or []:
                target = str(call["name"]).removeprefix(HANDOFF_PREFIX)
                if target in self.members:
                    return target
        return None


def _answer(routing: ModelResponse[Any]) -> AIMessage:
    """The supervisor's reply as the turn's answer (a handoff to nobody becomes a question)."""
    reply = next((m for m in reversed(routing.result) if isinstance(m, AIMessage)), None)
    if reply is None:
        return AIMessage("How can I help?")
    if reply.tool_calls:  # it asked for a specialist that does not exist
        return AIMessage(reply.text or "How can I help?", id=reply.id)
    return reply


def build_agent_graph(
    model: BaseChatModel,
    *,
    middleware: Sequence[AgentMiddleware[Any, Any]] = (),
    policies: Sequence[AutomationPolicy] = (),
    team: Sequence[Specialist] | None = None,
    checkpointer: Checkpointer = None,
) -> CompiledStateGraph[Any, AgentContext, Any, Any]:
    """The team's graph. `middleware` wraps every model and tool call (the supervisor's and
    the specialists'; outermost first), the approval middleware sits innermost, next to the
    tools; `policies` are the automation policies that pre-approve bounded writes."""
    hooks_inline_unless_traced()
    members = tuple(team if team is not None else specialists())
    names = sorted({name for s in members for name in s.tools})
    return create_agent(
        model,
        agent_tools(names),
        middleware=_stacked([Team(members), *middleware, ApprovalMiddleware(policies)]),
        state_schema=TurnState,
        context_schema=AgentContext,
        checkpointer=checkpointer,
    )


def _stacked(layers: list[AgentMiddleware[Any, Any, Any]]) -> list[AgentMiddleware[Any, Any, Any]]:
    """The layers as one (`create_agent` traces each layer's every call), unless one of them
    adds graph nodes or tools of its own."""
    if all(stackable(layer) for layer in layers):
        return [Stack(layers, name="Team")]
    return layers
