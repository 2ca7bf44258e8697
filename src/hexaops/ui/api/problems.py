"""Errors as RFC 7807 problem details (`application/problem+json`), never a traceback.

Platform errors keep their message (it says what to do); anything unexpected becomes a 500
whose detail names no internals — the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hexaops.platform.errors import (
    ApprovalRequired,
    ConfigurationError,
    Conflict,
    DriverError,
    Forbidden,
    InvalidInput,
    NotFound,
    PlatformError,
    QuotaExceeded,
)
from hexaops.ui.auth import AuthError

PROBLEM_JSON: Final = "application/problem+json"
_TYPE_BASE: Final = "https://hexaops.dev/problems/"
log = logging.getLogger(__name__)

# Platform error → HTTP status. Unlisted PlatformErrors are 400 (they are about the request).
STATUS_OF: Final[dict[type[PlatformError], int]] = {
    AuthError: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    QuotaExceeded: 422,
    ApprovalRequired: 409,  # it waits for someone else: not this request's to decide
    DriverError: 502,
    ConfigurationError: 503,
}


class Problem(BaseModel):
    """RFC 7807 problem details."""

    type: str = Field(description="URI identifying the problem kind.")
    title: str = Field(description="Short summary of the problem kind.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(description="What went wrong and what to do about it.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field validation errors (422 on malformed requests)."
    )


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    problem = Problem(
        type=_TYPE_BASE + (code or phrase.lower().replace(" ", "-")),
        title=phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_of(exc: PlatformError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def _platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="hexaops"'} if status == 401 else None
    return problem_response(
        status, exc.message, code=exc.code, instance=request.url.path, headers=headers
    )


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"]) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem_response(
        422,
        f"{where}: {first['msg']}{more}",
        code="invalid-request",
        instance=request.url.path,
        errors=errors,
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.url.path}: see /docs or /openapi.json for the API"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}: see /openapi.json"
    return problem_response(
        exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {})
    )


def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value of the request (a NUL character, a number out of range,
    a string too long): the request is at fault, and its transaction was rolled back."""
    log.info("unstorable value on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        422,
        "a value of the request cannot be stored (a NUL or control character, a number out "
        "of range, or a text too long): correct it and retry",
        code="unstorable-value",
        instance=request.url.path,
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        "internal error: the request was not completed; retry, and report it if it persists",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PlatformError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route may return."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
