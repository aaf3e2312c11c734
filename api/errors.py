"""Every error answer has one shape, `{"error": {status, field, reason, message}}`.

Service errors map to their statuses (404, 409, 422, 401, 503); a request that
fails validation names its first bad field, as a dotted path in the body or a
parameter's name; a database or Temporal outage is a 503 with Retry-After.
Anything else is logged (the route, the exception's type and where it was
raised, never its message, which may quote a person's details) and answered
with a plain 500.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import ErrorOut
from service.errors import (
    Conflict,
    Invalid,
    NotFound,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from service.journeys import outage

log = logging.getLogger("ips.api")

# Where a parameter came from; not part of the field's name.
_SOURCES = ("body", "query", "path", "header", "cookie")

# Documented on every route that needs a token.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown, expired or revoked one."},
    404: {
        "model": ErrorOut,
        "description": "No such record, or one outside the caller's caseload or team.",
    },
    422: {"model": ErrorOut, "description": "Bad input: `field` names it, `reason` says why."},
    503: {
        "model": ErrorOut,
        "description": "The database or Temporal is not answering; nothing was changed. "
        "Try again after Retry-After seconds.",
    },
}


def error_response(
    status: int,
    field: str | None,
    reason: str,
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    message = f"{field}: {reason}" if field else reason
    body = {"error": {"status": status, "field": field, "reason": reason, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def unavailable_response(err: Unavailable) -> JSONResponse:
    return error_response(503, None, str(err), headers={"Retry-After": str(err.retry_after)})


def service_error_response(err: ServiceError) -> JSONResponse:
    if isinstance(err, NotFound):
        return error_response(404, err.kind, str(err))
    if isinstance(err, Conflict):
        return error_response(409, err.field, err.reason)
    if isinstance(err, Invalid):
        return error_response(422, err.field, err.reason)
    if isinstance(err, Unauthenticated):
        return error_response(
            401, "authorization", str(err), headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(err, Unavailable):
        log.warning("%s", err)
        return unavailable_response(err)
    return error_response(400, None, str(err))


def validation_field_and_reason(errors: Sequence[Any], body: Any = None) -> tuple[str, str]:
    """The first bad field as a dotted path (without `body.` or a union's tag) and why."""
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in _SOURCES:
        source, loc = loc[0], loc[1:]
    else:
        source = "body"
    # A discriminated union puts the tag in the path: body.job_started.start_date.
    if source == "body" and loc and isinstance(body, dict) and loc[0] == str(body.get("type")):
        loc = loc[1:]
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    reason = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        loc = [*loc, str(ctx.get("discriminator", "type")).strip("'")]
        reason = (
            f"{ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
            if kind == "union_tag_invalid"
            else "is required"
        )
    elif kind == "missing":
        reason = "is required"
    elif kind == "extra_forbidden":
        reason = "is not a known field"
    elif kind == "json_invalid":
        loc = []
        reason = f"is not valid JSON ({ctx.get('error', 'cannot be parsed')})"
    return ".".join(loc) or source, reason


async def _on_validation_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    field, reason = validation_field_and_reason(err.errors(), err.body)
    return error_response(422, field, reason)


async def _on_service_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ServiceError)
    return service_error_response(err)


async def _on_http_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, HTTPException)
    field = {400: "body", 404: "path", 405: "method"}.get(err.status_code)
    reason = {404: "there is no such resource", 405: "is not allowed here"}.get(
        err.status_code, str(err.detail)
    )
    headers = dict(err.headers) if err.headers else None
    return error_response(err.status_code, field, reason, headers=headers)


class CatchAll:
    """The outermost layer: an exception no handler took becomes a 503 when it is
    an outage, else a logged 500 that shows nothing of the program's insides."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as err:
            if started:
                raise
            response = self.answer(scope, err)
            await response(scope, receive, send)

    @staticmethod
    def answer(scope: Scope, err: Exception) -> JSONResponse:
        unavailable = outage(err)
        if unavailable is not None:
            log.warning("%s (%s)", unavailable, type(err).__name__)
            return unavailable_response(unavailable)
        route = getattr(scope.get("route"), "path", "?")
        if isinstance(err, DataError):
            # PostgreSQL refuses some text (a NUL character) that no check names.
            return error_response(422, "body", "contains characters that cannot be stored")
        # Where it happened, without values or source lines.
        frames = "\n".join(
            f"  {frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(err.__traceback__)
        )
        log.error(
            "unexpected %s in %s %s\n%s", type(err).__name__, scope.get("method"), route, frames
        )
        return error_response(500, None, "something went wrong on our side; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_middleware(CatchAll)
