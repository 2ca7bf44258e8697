"""Typed errors of the platform core.

Every error carries a message a user can act on. Interfaces map them to exit codes (CLI),
problem details (API) or structured tool results (agents); none of them should print a traceback.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base of all errors the platform core raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PlatformError):
    """The request is malformed: a bad name, an unknown plan, a negative quantity."""

    code = "invalid"


class NotFound(PlatformError):
    """The object does not exist, or the principal may not know that it exists."""

    code = "not_found"


class Forbidden(PlatformError):
    """The principal can see the object but its role does not allow the operation."""

    code = "forbidden"


class Conflict(PlatformError):
    """The request collides with current state: a duplicate name, an action already decided."""

    code = "conflict"


class QuotaExceeded(PlatformError):
    """The request would exceed a project quota or a workspace plan cap."""

    code = "quota_exceeded"


class ApprovalRequired(PlatformError):
    """The action was recorded but waits for an approver before it runs."""

    code = "approval_required"


class DriverError(PlatformError):
    """The cluster driver could not carry out or read back a change."""

    code = "driver_error"


class ConfigurationError(PlatformError):
    """A setting is missing or invalid; the message names the variable."""

    code = "configuration"
