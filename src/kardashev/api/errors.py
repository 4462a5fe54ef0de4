"""The one place where exceptions become HTTP responses.

Every error response has the same envelope::

    {"error": {"code": "duplicate_ids", "type": "SubmissionError",
               "message": "3 duplicate ids in column 'id', e.g. 'n0001'", "request_id": "..."}}

``code`` is the machine-readable code of :mod:`kardashev.errors`, ``type`` the exception class (the client
turns it back into the same exception), ``request_id`` the id of the request (also in the ``X-Request-ID``
header and in the server log). Bad input is always a 4xx; only a bug or an unavailable dependency is a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kardashev import errors

__all__ = [
    "CODE_STATUS",
    "ERROR_STATUS",
    "error_body",
    "install_error_handlers",
    "status_for",
]

logger = logging.getLogger("kardashev.api")

# Most specific class first: the first isinstance match wins.
ERROR_STATUS: tuple[tuple[type[errors.KardashevError], int], ...] = (
    (errors.PayloadTooLargeError, 413),
    (errors.BusyError, 503),  # a lock could not be had in time: nothing was done, retry
    (errors.RateLimitError, 429),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.StateError, 409),
    (errors.InsufficientBalanceError, 409),
    (errors.DataFormatError, 422),
    (errors.SubmissionError, 422),
    (errors.InvalidInputError, 422),
    (errors.InfeasibleError, 422),  # the day's exposures / config admit no portfolio: fix the input
    (errors.OptimizationError, 500),  # the solver failed: a server-side problem
)

# A few codes have a more precise HTTP status than their class.
CODE_STATUS: dict[str, int] = {
    "unsupported_media_type": 415,
    "malformed_request": 400,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def status_for(exc: errors.KardashevError) -> int:
    """HTTP status of a domain error (500 for a class not in the table)."""
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_body(*, code: str, message: str, type_name: str, request_id: str | None) -> dict[str, Any]:
    """The JSON envelope of an error response."""
    return {"error": {"code": code, "type": type_name, "message": message, "request_id": request_id}}


def _response(request: Request, status: int, *, code: str, message: str, type_name: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Token realm="kardashev"'} if status == 401 else None
    body = error_body(code=code, message=message, type_name=type_name, request_id=_request_id(request))
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.KardashevError)
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, errors.BusyError):
        logger.error("server error %s: %s", exc.code, exc.message)
    response = _response(request, status, code=exc.code, message=exc.message, type_name=type(exc).__name__)
    if isinstance(exc, errors.BusyError):
        response.headers["Retry-After"] = str(int(exc.retry_after))
    return response


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "request"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only locations and messages: the submitted values may be private (predictions) or secret.
    return _response(
        request, 422, code="invalid_request", message=_describe_validation(exc), type_name="InvalidInputError"
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    type_name = {
        401: "AuthenticationError",
        403: "PermissionDeniedError",
        404: "NotFoundError",
        413: "PayloadTooLargeError",
    }.get(status, "InvalidInputError" if 400 <= status < 500 else "KardashevError")
    response = _response(request, status, code=code, message=message, type_name=type_name)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the error envelope."""
    app.add_exception_handler(errors.KardashevError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Anything else escapes to RequestIdMiddleware, which logs it and answers a 500 envelope.
