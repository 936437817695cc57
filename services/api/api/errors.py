"""One translator from domain errors (and request validation) to HTTP responses."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openstatus_common.errors import DomainError, ErrorCode
from openstatus_common.service import NotReady

log = structlog.get_logger(__name__)

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.FAILED_PRECONDITION: 412,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.UNAVAILABLE: 503,
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "regions", 0) -> "regions[0]"; the "body"/"query" prefix says nothing to a user.
    parts = list(
        location[1:] if location and location[0] in ("body", "query", "path", "header") else location
    )
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


TIMESTAMP_MESSAGE = "must be an RFC 3339 timestamp with a timezone, e.g. 2026-12-05T10:00:00Z"


def _problem(item: dict[str, Any]) -> dict[str, str]:
    """One validation problem as ``{field, message}`` in our words where pydantic's would mislead."""
    kind = str(item.get("type", ""))
    if kind == "json_invalid":
        # The location is a character position, not a field.
        reason = str(item.get("ctx", {}).get("error", "")).strip()
        return {"field": "body", "message": "not valid JSON" + (f" ({reason})" if reason else "")}
    message = str(item["msg"]).removeprefix("Value error, ")
    if kind.startswith(("datetime_", "date_from_datetime")):
        message = TIMESTAMP_MESSAGE  # pydantic says "datetime or date", and a date alone is refused
    return {"field": _field_path(item["loc"]), "message": message}


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": "x-openstatus-key"} if error.code is ErrorCode.UNAUTHENTICATED else None
        )
        return JSONResponse(
            error_body(error.code.value, error.message, field=error.field, **error.details),
            status_code=HTTP_STATUS[error.code],
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [_problem(item) for item in error.errors()]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return JSONResponse(
            error_body(
                ErrorCode.INVALID_ARGUMENT.value,
                f"{first['field']}: {first['message']}",
                field=first["field"],
                errors=problems,
            ),
            status_code=400,
        )

    @app.exception_handler(NotReady)
    async def not_ready(_request: Request, error: NotReady) -> JSONResponse:
        return JSONResponse(error_body(ErrorCode.UNAVAILABLE.value, str(error)), status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    @app.exception_handler(OverflowError)
    async def overflow(_request: Request, _error: OverflowError) -> JSONResponse:
        # SQLite refuses integers past 64 bits (an id in the path, an offset).
        return _out_of_range()

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, error: DBAPIError) -> JSONResponse:
        if "out of" in str(error.orig) and "range" in str(error.orig):
            return _out_of_range()  # PostgreSQL's word for the same
        return await unexpected(request, error)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("api.unhandled_error")
        return JSONResponse(error_body("internal", "internal error"), status_code=500)


def _out_of_range() -> JSONResponse:
    return JSONResponse(
        error_body(
            ErrorCode.INVALID_ARGUMENT.value, "a number in the request is out of range (at most 2^63-1)"
        ),
        status_code=400,
    )
