"""Our tools as LangChain tools; the principal comes from the run, not from the tool.

The model sees each tool's name, description and input schema. At call time the tool node
injects a `ToolRuntime` whose `context` is the turn's `AgentContext`: the call runs through
`run_tool` (validation, authorization, budget) as `runtime.context.tools.principal`, with the
model's tool-call id scoped by the session as the idempotency key of writes, and comes back as
a quoted result (see `quoting.py`). So one set of tools (and one compiled graph) serves every
principal. `langchain_tools(ctx, …)` builds the same tools with a fixed context for runs
without an AgentContext (a bare `create_agent`, a script).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from langchain.tools import ToolRuntime
from langchain_core.tools import BaseTool, InjectedToolArg, InjectedToolCallId, StructuredTool
from pydantic import PlainSerializer, ValidationError, create_model

from hexaops.agents.context import AgentContext
from hexaops.agents.quoting import quote_tool_result
from hexaops.platform.operations import describe_validation_error
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Tool, ToolResult, run_tool


def scoped_call_id(session_id: str | None, tool_call_id: str) -> str:
    """Call ids are unique within a conversation (the offline planner's are deterministic):
    scoped by the session, a retried call is idempotent and a new conversation is new."""
    return f"{session_id}/{tool_call_id}" if session_id else tool_call_id


# LangChain dumps a tool's validated input (`model_dump`) only to see which fields it has; a
# runtime left as `Any` would be dumped field by field, with the whole conversation in its
# state, on every tool call. It is passed on as the object it is, never dumped.
_Runtime = Annotated[Any, InjectedToolArg, PlainSerializer(lambda _: None, return_type=None)]


def _langchain_tool(
    found: Tool[Any], fixed: ToolContext | None = None, session: str | None = None
) -> BaseTool:
    # The runtime is injected by the tool node, never chosen by the model (not in its schema).
    schema = create_model(
        f"{found.args.__name__}Call",
        __base__=found.args,
        runtime=(_Runtime, None),
        tool_call_id=(Annotated[str, InjectedToolCallId], ...),
    )

    def call(
        tool_call_id: str, runtime: ToolRuntime[AgentContext, Any] | None = None, **arguments: Any
    ) -> str:
        context = getattr(runtime, "context", None)
        scope: str | None
        if isinstance(context, AgentContext):
            ctx, scope = context.tools, context.session_id
        elif fixed is not None:
            ctx, scope = fixed, session
        else:
            raise TypeError(
                f"tool {found.name} needs the AgentContext as runtime context "
                "(graph.invoke(..., context=AgentContext(...)))"
            )
        call_id = scoped_call_id(scope, tool_call_id)
        return quote_tool_result(run_tool(ctx, found.name, arguments, call_id=call_id))

    def invalid(exc: ValidationError) -> str:
        # LangChain validates before `call`: answer as run_tool would, as a quoted error result.
        message = describe_validation_error(exc)
        return quote_tool_result(
            ToolResult(tool=found.name, status="error", summary=message, error_code="invalid")
        )

    return StructuredTool.from_function(
        func=call,
        name=found.name,
        description=found.description,
        args_schema=schema,
        handle_validation_error=invalid,
        metadata={"toolset": found.toolset, "writes": found.writes},
    )


def agent_tools(names: Iterable[str] | None = None) -> list[BaseTool]:
    """LangChain tools for `names` (default: every tool); they act as the principal of the
    `AgentContext` the graph runs with."""
    return [_langchain_tool(t) for t in _wanted(names)]


def langchain_tools(
    ctx: ToolContext, names: Iterable[str] | None = None, *, session: str | None = None
) -> list[BaseTool]:
    """The same tools acting as `ctx.principal` in the conversation `session` when the run has
    no AgentContext (an AgentContext, when there is one, still wins)."""
    return [_langchain_tool(t, ctx, session) for t in _wanted(names)]


def _wanted(names: Iterable[str] | None) -> list[Tool[Any]]:
    tools = all_tools()
    wanted = list(tools) if names is None else list(names)
    unknown = [n for n in wanted if n not in tools]
    if unknown:
        raise ValueError(f"unknown tools: {', '.join(unknown)}")
    return [tools[n] for n in wanted]
