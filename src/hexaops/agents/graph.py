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

from collections.abc import Sequence
from typing import Any, NotRequired, cast

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
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
    supervisor_agent = create_agent(
        model,
        [handoff_tool(s) for s in members],
        system_prompt=_SUPERVISOR_PROMPT,
        middleware=list(middleware),
        context_schema=AgentContext,
        name=SUPERVISOR,
    )

    def supervisor(state: TurnState, runtime: Runtime[AgentContext]) -> Command[str]:
        dialogue = _dialogue(state["messages"])
        out = supervisor_agent.invoke(cast("Any", {"messages": dialogue}), context=runtime.context)
        new = out["messages"][len(dialogue) :]
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
