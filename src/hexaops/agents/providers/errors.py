"""What a provider error means for us: retry it, fall back, or tell the operator what to fix.

Both LangChain integrations raise `langchain_core.exceptions.ModelError` subclasses that also
inherit the SDK's own error (with `status_code`, `response`, `body`); the HTTP status is read
from the SDK side so a status the integration does not classify (408, 409) is still understood.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

from hexaops.platform.errors import ConfigurationError, PlatformError


class ProviderUnavailable(PlatformError):
    """The model provider stayed unavailable after the retries and no fallback is configured."""

    code = "provider_unavailable"


class ProviderRejected(PlatformError):
    """The provider refused the request itself (HTTP 400, 413, 422…); retrying cannot help."""

    code = "provider_rejected"


_REASONS = {429: "rate limited", 529: "overloaded"}
# Error types a stream reports after its HTTP 200 (Anthropic's `event: error`): transient ones.
_STREAM_ERRORS = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate limited",
    "api_error": "server error",
    "timeout_error": "timed out",
}
# The statuses the SDKs retry as well: request timeout, lock timeout, rate limit, server errors.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Failure:
    """A transient provider failure: `reason` reads "HTTP 529 overloaded", "no answer within
    60 s"…; `retry_after` is the wait the provider asked for, in seconds."""

    reason: str
    retry_after: float | None = None
    detail: str | None = None


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _error_field(exc: BaseException, name: str) -> str | None:
    """A field of the provider's error body (`{"error": {"message": …, "type": …}}`)."""
    body: Any = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get(name), str):
            return str(error[name])[:300]
    return None


def detail_of(exc: BaseException) -> str | None:
    """The provider's own error message."""
    return _error_field(exc, "message")


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    return None


def transient_failure(exc: BaseException, timeout_seconds: float) -> Failure | None:
    """The failure when `exc` is worth retrying (overload, rate limit, 5xx, timeout, connection
    error), else None."""
    status = status_of(exc)
    if isinstance(exc, ModelTimeoutError) or status == 408:
        return Failure(f"no answer within {timeout_seconds:g} s")
    if isinstance(exc, ModelConnectionError):
        return Failure("connection failed")
    if status is not None and status < 300:  # the stream started, then reported an error
        kind = _STREAM_ERRORS.get(_error_field(exc, "type") or "")
        return Failure(f"{kind} during the stream", detail=detail_of(exc)) if kind else None
    if (
        isinstance(exc, ModelRateLimitError | ModelAPIError)
        or status in _RETRYABLE_STATUSES
        or (status is not None and status >= 500)
    ):
        if status is None:
            return Failure("server error", detail=detail_of(exc))
        phrase = _REASONS.get(status) or _phrase(status)
        return Failure(f"HTTP {status} {phrase}", retry_after_of(exc), detail_of(exc))
    return None


def permanent_error(
    exc: BaseException, provider: str, model: str, key_variables: str
) -> BaseException:
    """What to raise for an error that retrying cannot fix: a misconfiguration names the variable,
    a refused request says so; anything else (bugs, context overflow for middleware) unchanged."""
    status = status_of(exc)
    detail = detail_of(exc)
    said = f": {detail}" if detail else ""
    if isinstance(exc, ModelAuthenticationError) or status == 401:
        return ConfigurationError(
            f"{provider} rejected the API key (HTTP 401{said}): set {key_variables} to a valid key"
        )
    if isinstance(exc, ModelPermissionDeniedError) or status == 403:
        return ConfigurationError(
            f"{provider} refused access to model {model!r} (HTTP 403{said}): set "
            f"{key_variables} to a key allowed to use it, or choose another HEXAOPS_MODEL"
        )
    if isinstance(exc, ModelNotFoundError) or status == 404:
        return ConfigurationError(
            f"{provider} does not serve model {model!r} (HTTP 404{said}): check HEXAOPS_MODEL "
            "and HEXAOPS_MODEL_BASE_URL"
        )
    if isinstance(exc, ContextOverflowError | ModelRefusalError) or status is None or status < 300:
        return exc
    return ProviderRejected(
        f"{provider} rejected the request (HTTP {status} {_phrase(status)}{said}); "
        "it was not retried"
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"
