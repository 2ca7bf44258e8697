"""Services given now or found later: the API's app opens its platform and agents in its
lifespan (after the chat and the Slack bot are mounted), so a mount may take a function that
returns them when a request comes, or None for the API's `app.state.services`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from fastapi import FastAPI

T = TypeVar("T")
Provided: TypeAlias = T | Callable[[], T]


def resolve(value: Provided[T]) -> T:
    return value() if callable(value) else value


def provided(app: FastAPI, value: Provided[T] | None, name: str) -> Provided[T]:
    """`value`, or the `name` attribute of `app.state.services` (as hexaops.ui.api sets it)."""
    if value is not None:
        return value

    def from_state() -> Any:
        services = getattr(app.state, "services", None)
        if services is None:
            raise RuntimeError(f"no {name} yet: the app's lifespan has not started")
        return getattr(services, name)

    return from_state
