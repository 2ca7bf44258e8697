"""The agent team as one LangGraph graph: a supervisor routes each turn to one specialist.

    START → supervisor ─┬─ route_to_<specialist> → <specialist> (tool-calling agent) → END
                        └─ text answer (greetings, help) ──────────────────────────────→ END

The supervisor is a model with one handoff tool per specialist (`route_to_<name>`, no
arguments, the specialist's description); it sees only the conversation's questions and
answers. Each specialist is a `create_agent` subgraph (model ↔ tools until it answers) with the
approval middleware on its writes and the caller's middleware (guardrails, accounting). The
graph holds no principal: tools and middleware read `runtime.context: AgentContext`, so it is
compiled once and serves everyone, on every provider (incl. the offline planner).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NotRequired, cast

from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer, Command
from pydantic import BaseModel, ConfigDict

from hexaops.agents.approvals import ApprovalMiddleware, AutomationPolicy
from hexaops.agents.context import AgentContext
from hexaops.agents.specialists import Specialist, specialists
from hexaops.agents.toolkit import agent_tools

HANDOFF_PREFIX = "route_to_"
SUPERVISOR = "supervisor"

_SUPERVISOR_PROMPT = """\
You are hexaops, an operations assistant for a multi-tenant Kubernetes platform. Route each
request to the one specialist that handles it by calling its route_to_* tool. Answer yourself,
briefly and without tools, only greetings and questions about what you can do."""


class TurnState(MessagesState):
    specialist: NotRequired[str | None]  # who answered the latest turn (None: the supervisor)
    org: NotRequired[str]  # the organization the session belongs to (set by the service)
    started_by: NotRequired[str]


class _NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def handoff_tool(specialist: Specialist) -> BaseTool:
    """`route_to_<name>`: the supervisor's way to hand the turn over (returns at once)."""

    def route() -> str:
        return f"routed to {specialist.name}"

    return StructuredTool.from_function(
        func=route,
        name=HANDOFF_PREFIX + specialist.name,
        description=specialist.description,
        args_schema=_NoArgs,
        return_direct=True,
    )


def _dialogue(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """What the supervisor sees: the questions and the answers, no tool traffic."""
    return [
        m
        for m in messages
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls)
    ]


def supervisor_call(
    middleware: Sequence[AgentMiddleware[Any, Any]],
) -> Callable[[ModelRequest[AgentContext]], ModelResponse[Any]]:
    """The supervisor's single model call, wrapped by each middleware's `wrap_model_call`
    (outermost first) as `create_agent` wraps it — without an agent loop around one call, which
    would cost a nested graph run per turn. So middleware here may only wrap model calls."""

    def call(request: ModelRequest[AgentContext]) -> ModelResponse[Any]:
        bound = request.model.bind_tools(request.tools)
        system = [request.system_message] if request.system_message is not None else []
        return ModelResponse(result=[bound.invoke([*system, *request.messages])])

    handler: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]] = call
    for layer in reversed(middleware):
        hooks = [
            h for h in _NODE_HOOKS if getattr(type(layer), h) is not getattr(AgentMiddleware, h)
        ]
        if hooks:
            raise TypeError(
                f"{type(layer).__name__} has {', '.join(hooks)}: the supervisor's middleware "
                "may only wrap model calls (wrap_model_call)"
            )
        handler = _wrapping(layer, handler)
    return handler


_NODE_HOOKS = ("before_agent", "before_model", "after_model", "after_agent")


def _wrapping(
    layer: AgentMiddleware[Any, Any],
    inner: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]],
) -> Callable[[ModelRequest[AgentContext]], ModelResponse[Any]]:
    if type(layer).wrap_model_call is AgentMiddleware.wrap_model_call:
        return inner

    def wrapped(request: ModelRequest[AgentContext]) -> ModelResponse[Any]:
        out = layer.wrap_model_call(request, inner)
        if isinstance(out, AIMessage):
            return ModelResponse(result=[out])
        if isinstance(out, ExtendedModelResponse):  # its command has no agent state to update
            return out.model_response
        return out

    return wrapped


def build_agent_graph(
    model: BaseChatModel,
    *,
    middleware: Sequence[AgentMiddleware[Any, Any]] = (),
    policies: Sequence[AutomationPolicy] = (),
    team: Sequence[Specialist] | None = None,
    checkpointer: Checkpointer = None,
) -> CompiledStateGraph[TurnState, AgentContext, TurnState, TurnState]:
    """The supervisor graph. `middleware` wraps every model and tool call (supervisor and
    specialists; outermost first), the approval middleware sits innermost, next to the tools;
    `policies` are the automation policies that pre-approve bounded writes."""
    members = tuple(team if team is not None else specialists())
    names = {s.name for s in members}
    route = supervisor_call(middleware)
    handoffs: list[BaseTool | dict[str, Any]] = [handoff_tool(s) for s in members]
    system = SystemMessage(_SUPERVISOR_PROMPT)

    def supervisor(state: TurnState, runtime: Runtime[AgentContext]) -> Command[str]:
        dialogue = _dialogue(state["messages"])
        request: ModelRequest[AgentContext] = ModelRequest(
            model=model,
            messages=dialogue,
            system_message=system,
            tools=handoffs,
            state=cast("Any", {"messages": dialogue}),
            runtime=runtime,
        )
        new = route(request).result
        for message in new:
            for call in getattr(message, "tool_calls", None) or []:
                target = str(call["name"]).removeprefix(HANDOFF_PREFIX)
                if target in names:
                    return Command(goto=target, update={"specialist": target})
        reply = next((m for m in reversed(new) if isinstance(m, AIMessage)), None)
        # The reply's id tells the message stream it already streamed these tokens.
        answer = (
            AIMessage(reply.text, id=reply.id)
            if reply is not None
            else AIMessage("How can I help?")
        )
        return Command(goto=END, update={"messages": [answer], "specialist": None})

    builder: StateGraph[TurnState, AgentContext, TurnState, TurnState] = StateGraph(
        TurnState, context_schema=AgentContext
    )
    builder.add_node(SUPERVISOR, supervisor, destinations=(*names, END))
    approvals = ApprovalMiddleware(policies)
    for specialist in members:
        agent = create_agent(
            model,
            agent_tools(specialist.tools),
            system_prompt=specialist.system_prompt,
            middleware=[*middleware, approvals],
            context_schema=AgentContext,
            name=specialist.name,
        )
        builder.add_node(specialist.name, agent)
        builder.add_edge(specialist.name, END)
    builder.add_edge(START, SUPERVISOR)
    return builder.compile(checkpointer=checkpointer)
