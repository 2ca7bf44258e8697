"""A scripted chat model, a tool and a runner for agents with the guardrails."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool, tool
from pydantic import Field

from hexaops.agents.context import AgentContext

Script = Callable[[list[BaseMessage]], AIMessage]


class ScriptedModel(BaseChatModel):
    """Answers with `script(messages)` and keeps every request it was sent in `seen`."""

    script: Script
    model_name: str = "scripted-model"
    tokens: tuple[int, int] = (100, 20)  # input, output tokens each call reports
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        answer = self.script(messages)
        tokens_in, tokens_out = self.tokens
        message = answer.model_copy(
            update={
                "usage_metadata": {
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "total_tokens": tokens_in + tokens_out,
                },
                "response_metadata": {"model_name": self.model_name},
            }
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


_ids = itertools.count()


def calls_tool(args: Callable[[int], dict[str, Any]]) -> Script:
    """A model that never stops calling `echo` (arguments from the call number)."""

    def script(messages: list[BaseMessage]) -> AIMessage:
        n = next(_ids)
        return AIMessage(
            content="", tool_calls=[{"name": "echo", "args": args(n), "id": f"call_{n}"}]
        )

    return script


def calls_once(messages: list[BaseMessage]) -> AIMessage:
    """Calls `echo` once, then answers."""
    if isinstance(messages[-1], ToolMessage):
        return AIMessage(content="done")
    return AIMessage(content="", tool_calls=[{"name": "echo", "args": {"text": "x"}, "id": "c0"}])


def answers(text: str) -> Script:
    return lambda messages: AIMessage(content=text)


@tool
def echo(text: str) -> str:
    """Echo the text back."""
    return f"echo: {text}"


def run_agent(
    model: BaseChatModel,
    middleware: Sequence[AgentMiddleware[Any, Any, Any]],
    context: AgentContext,
    text: str,
    tools: Sequence[BaseTool] = (echo,),
) -> list[BaseMessage]:
    agent = create_agent(
        model=model, tools=list(tools), middleware=middleware, context_schema=AgentContext
    )
    state = agent.invoke(
        {"messages": [{"role": "user", "content": text}]},
        context=context,
        config={"recursion_limit": 200},
    )
    messages: list[BaseMessage] = state["messages"]
    return messages
