"""Constraints shared by path and query parameters: names are DNS-1123 labels, so anything
else is refused as 422 before it reaches the platform."""

from __future__ import annotations

from typing import Any, Final

_LABEL: Final = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"

OrgSlug: Final[dict[str, Any]] = {
    "pattern": _LABEL,
    "max_length": 63,
    "description": "Organization slug.",
}
Name: Final[dict[str, Any]] = {"pattern": _LABEL, "max_length": 63, "description": "DNS-1123 name."}
