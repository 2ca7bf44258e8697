"""The services the Chainlit app works with, set by `mount_chat` before Chainlit loads it.

Chainlit imports its target file itself (by path), so the app cannot receive arguments: it
reads them from this module, which both sides import under the same name.
"""

from __future__ import annotations

from dataclasses import dataclass

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.chat.provide import Provided, resolve


@dataclass(frozen=True)
class ChatServices:
    provided_agents: Provided[AgentService]
    provided_platform: Provided[Platform]
    settings: Settings
    path: str  # where the chat is mounted, e.g. /chat

    @property
    def agents(self) -> AgentService:
        return resolve(self.provided_agents)

    @property
    def platform(self) -> Platform:
        return resolve(self.provided_platform)


_current: ChatServices | None = None


def register(services: ChatServices) -> None:
    global _current
    _current = services


def services() -> ChatServices:
    if _current is None:
        raise RuntimeError("the browser chat is not mounted: call hexaops.ui.chat.mount_chat")
    return _current
