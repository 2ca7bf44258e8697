"""The tool contract: what every tool the agents (and people, through `hexaops tool run`) call
looks like.

A tool is one function `fn(ctx, args) -> Outcome` with a pydantic input model and a docstring
written for the model and the reader, registered with `@tool`. `run_tool` is the only way to
call one: it validates the arguments, runs the function with the injected `ToolContext`, turns
every error into a structured result with an actionable message, and bounds the result to the
context's token budget. Read-only tools never mutate; write tools only request platform actions,
which go through the action pipeline (authorization, plan, approval, audit).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hexaops.platform.errors import InvalidInput, PlatformError
from hexaops.platform.operations import describe_validation_error
from hexaops.tools.budget import compact_json, estimate_tokens, shrink_to_budget
from hexaops.tools.context import ToolContext

log = logging.getLogger(__name__)

TOOLSETS: Final = (
    "platform",
    "metrics",
    "logs",
    "analytics",
    "diagnostics",
    "security",
    "scaling",
    "knowledge",
)


class BackendUnavailable(PlatformError):
    """A telemetry or scanning backend is down, slow or misconfigured."""

    code = "backend_unavailable"


class Evidence(BaseModel):
    """Where a result comes from, so an answer can cite it and a person can re-run it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["query", "object", "document", "action", "scan"]
    backend: str = ""  # prometheus | clickhouse | loki | driver | trivy | platform | knowledge
    query: str = ""  # the query as run (PromQL, LogQL, SQL) or what was read
    start: datetime | None = None
    end: datetime | None = None
    objects: list[str] = []  # "org/workspace/project/Kind/name", a document id, an action id


class ToolResult(BaseModel):
    """What a tool call returns to its caller. `status` is "ok", "empty" (the question was
    valid; nothing matched — the summary says so) or "error" (`error` says what to change)."""

    tool: str
    status: Literal["ok", "empty", "error"]
    summary: str
    data: Any = None
    evidence: list[Evidence] = []
    truncated: bool = False
    tokens: int = 0
    error_code: str | None = None
    elapsed_ms: float = 0.0


@dataclass
class Outcome:
    """What a tool function returns; `run_tool` turns it into a ToolResult."""

    summary: str
    data: Any = None
    evidence: list[Evidence] = field(default_factory=list)
    empty: bool = False  # nothing matched: the summary says what was looked for


A = TypeVar("A", bound=BaseModel)
ToolFunction = Callable[[ToolContext, A], Outcome]


@dataclass(frozen=True)
class Tool(Generic[A]):
    name: str
    toolset: str
    description: str
    args: type[A]
    fn: ToolFunction[A]
    writes: bool = False  # True: the tool requests platform actions (which need approval)

    def input_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "toolset": self.toolset,
            "writes": self.writes,
            "description": self.description,
            "input_schema": self.input_schema(),
        }


REGISTRY: dict[str, Tool[Any]] = {}


def tool(
    name: str, toolset: str, *, writes: bool = False
) -> Callable[[ToolFunction[A]], ToolFunction[A]]:
    """Register `fn(ctx, args: Model) -> Outcome` as a tool; its docstring is its description."""
    if toolset not in TOOLSETS:
        raise ValueError(f"unknown toolset {toolset!r}")

    def register(fn: ToolFunction[A]) -> ToolFunction[A]:
        params = list(inspect.signature(fn, eval_str=True).parameters.values())
        args_model = params[1].annotation
        if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
            raise TypeError(f"tool {name}: the second parameter must be a pydantic model")
        register_tool(
            Tool(name, toolset, inspect.cleandoc(fn.__doc__ or ""), args_model, fn, writes)
        )
        return fn

    return register


def register_tool(found: Tool[Any]) -> None:
    """Add a tool built without the decorator (e.g. one per platform operation)."""
    if found.name in REGISTRY:
        raise ValueError(f"tool {found.name!r} is registered twice")
    if found.toolset not in TOOLSETS:
        raise ValueError(f"unknown toolset {found.toolset!r}")
    if not found.description:
        raise TypeError(f"tool {found.name}: write a docstring for the model and the reader")
    REGISTRY[found.name] = found


def _error(name: str, message: str, code: str, started: float) -> ToolResult:
    result = ToolResult(tool=name, status="error", summary=message, error_code=code)
    return _finish(result, started)


def _finish(result: ToolResult, started: float) -> ToolResult:
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    # Timing left out: the same result always costs the same tokens (deterministic replays).
    result.tokens = estimate_tokens(
        compact_json(result.model_dump(mode="json", exclude={"tokens", "elapsed_ms"}))
    )
    return result


def run_tool(
    ctx: ToolContext, name: str, arguments: dict[str, Any] | None, *, call_id: str | None = None
) -> ToolResult:
    """Call tool `name` as `ctx.principal`. Never raises for a user or backend problem: errors
    come back as results whose summary says what to do. `call_id` (e.g. the model's tool-call
    id) makes a write tool's request idempotent: a retried call returns the same action."""
    started = time.perf_counter()
    found = REGISTRY.get(name)
    if found is None:  # toolsets register on import: make sure all of them are loaded
        from hexaops.tools.catalog import all_tools

        found = all_tools().get(name)
    if found is None:
        return _error(
            name,
            f"unknown tool {name!r}: `hexaops tool list` shows the tools there are",
            InvalidInput.code,
            started,
        )
    if arguments is not None and not isinstance(arguments, dict):
        return _error(name, "tool arguments must be a JSON object", InvalidInput.code, started)
    try:
        args = found.args.model_validate(arguments or {})
    except ValidationError as exc:
        return _error(name, describe_validation_error(exc), InvalidInput.code, started)
    except PlatformError as exc:  # a validator that checks names or quantities the core's way
        return _error(name, exc.message, exc.code, started)
    ctx.call_id = call_id
    try:
        outcome = found.fn(ctx, args)
    except PlatformError as exc:
        return _error(name, exc.message, exc.code, started)
    except Exception:  # a bug must not reach the model as a traceback, nor kill the turn
        log.exception("tool %s failed", name)
        return _error(
            name,
            f"tool {name} failed unexpectedly (details are in the hexaops log); "
            "try another tool or narrower arguments",
            "internal",
            started,
        )
    return _finish(bounded(name, outcome, ctx.budget_tokens), started)


def bounded(name: str, outcome: Outcome, budget: int) -> ToolResult:
    """The outcome as a result of at most `budget` estimated tokens: evidence and summary are
    kept, the data shrinks (least relevant items first)."""
    result = ToolResult(
        tool=name,
        status="empty" if outcome.empty else "ok",
        summary=outcome.summary,
        evidence=outcome.evidence,
    )
    frame = estimate_tokens(compact_json(result.model_dump(mode="json"))) + 16
    if frame > budget:  # even the frame is too big: keep the first evidence only
        result.evidence = result.evidence[:1]
        frame = estimate_tokens(compact_json(result.model_dump(mode="json"))) + 16
    data, truncated = shrink_to_budget(outcome.data, budget, overhead=frame)
    result.data = data
    result.truncated = truncated
    if truncated:
        result.summary += " (result shortened to fit the token budget)"
    return result
