"""Tool bindings made once per tool set, not once per model call.

The agent loop binds the turn's tools on every model call (`create_agent` calls `bind_tools`
each time), and binding converts every tool's schema to the provider's format: about 0.8 ms for
a specialist's 32 tools, twice that with a fallback model bound alike. The tool sets are few
(the supervisor's handoffs, one per specialist) and their tools are the same objects on every
call, so a chat model keeps its bindings here, keyed by the identity of the tools bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Final, TypeVar

from langchain_core.tools import BaseTool

Bound = TypeVar("Bound")

MAX_BINDINGS: Final = 64  # tool sets kept per model (a team has one per specialist, plus one)


class ToolBindings:
    """A bounded cache of a model's tool bindings. A binding is reused only for the very same
    tool objects (kept alive here, so their ids cannot be reused by other objects) and the same
    binding options; tools given as dicts or classes, or unhashable options, are bound afresh."""

    def __init__(self, size: int = MAX_BINDINGS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[tuple[BaseTool, ...], Any]] = OrderedDict()

    def get(
        self, tools: Sequence[object], options: dict[str, Any], bind: Callable[[], Bound]
    ) -> Bound:
        """The binding of `tools` with `options`, made by `bind()` the first time."""
        key = _key(tools, options)
        if key is None:
            return bind()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[1]  # type: ignore[no-any-return]
        bound = bind()
        with self._lock:
            self._items[key] = (tuple(tools), bound)  # type: ignore[arg-type]
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return bound


def _key(tools: Sequence[object], options: dict[str, Any]) -> Hashable | None:
    if not all(isinstance(tool, BaseTool) for tool in tools):
        return None
    key = (tuple(id(tool) for tool in tools), tuple(sorted(options.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key
