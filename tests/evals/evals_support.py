"""A scripted chat model for the runner tests: as the supervisor it routes every request to
one specialist; as that specialist it makes the planned tool calls one by one, then answers with
the tool results' summaries. `fail_at` makes the n-th model call raise (a provider failing
mid-run): a crash, or with `unavailable` the product's ProviderUnavailable."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field

from hexaops.agents.providers.errors import ProviderUnavailable
from hexaops.agents.quoting import unquote_tool_result

_ids = itertools.count()


class ScriptedAgent(BaseChatModel):
    specialist: str = "incident"
    plan: list[tuple[str, dict[str, Any]]] = Field(default_factory=list)
    bound: list[str] = Field(default_factory=list)
    fail_at: int | None = None
    unavailable: bool = False  # fail as the product's provider wrapper does (ProviderUnavailable)
    calls: list[int] = Field(default_factory=lambda: [0])  # shared by the bound copies

    @property
    def _llm_type(self) -> str:
        return "scripted-eval"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **_: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [t.name for t in tools if isinstance(t, BaseTool)]
        return self.model_copy(update={"bound": names})

    def _generate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        self.calls[0] += 1
        if self.fail_at is not None and self.calls[0] >= self.fail_at:
            if self.unavailable:
                raise ProviderUnavailable("anthropic is unavailable (HTTP 529 overloaded)")
            raise RuntimeError("provider went away (HTTP 503)")
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if any(n.startswith("route_to_") for n in self.bound):
            return _call(f"route_to_{self.specialist}", {})
        last = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        done = [m for m in messages[last:] if isinstance(m, ToolMessage)]
        if len(done) < len(self.plan):
            return _call(*self.plan[len(done)])
        said = [unquote_tool_result(str(m.content)) or {} for m in done]
        text = "\n".join(f"{f.get('status')}: {f.get('summary')}" for f in said)
        return AIMessage(text or "nothing to do", id=f"scripted-{next(_ids)}")


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    n = next(_ids)
    return AIMessage(
        "", id=f"scripted-{n}", tool_calls=[{"name": name, "args": args, "id": f"call-{n}"}]
    )
